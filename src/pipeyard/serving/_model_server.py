"""The process behind one deployment: one model on KServe's model server.

Run as a script by the serving runtime's interpreter (``python _model_server.py ...``),
which may be an isolated environment without pipeyard in it, so this file imports
only the standard library, kserve and the model's framework.

KServe supplies both protocols (Open Inference Protocol v2 and the V1 ``:predict``
protocol), health, metadata and its ``{"error": ...}`` 400 answers; this file only
loads the model, checks the batch it is given and picks classes or probabilities.
KServe's REST server always binds 0.0.0.0, so the host is set on its uvicorn config
before it starts: a deployment listens where pipeyard says, loopback by default.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import sys
from pathlib import Path
from typing import Any

TOKEN_ENV = "PIPEYARD_MODEL_SERVER_TOKEN"
PROBABILITY_KEYS = ("probabilities", "predict_proba")


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pipeyard-model-server")
    p.add_argument("--model-path", required=True)
    p.add_argument("--model-name", required=True)
    p.add_argument("--format", required=True, choices=["sklearn", "xgboost", "lightgbm", "mlflow"])
    p.add_argument("--bind-host", default="127.0.0.1")
    p.add_argument("--bind-port", type=int, required=True)
    return p.parse_args(argv)


def _model_file(path: Path, suffixes: tuple[str, ...]) -> Path:
    if path.is_file():
        return path
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    preferred = [p for p in files if p.suffix.lower() in suffixes]
    if preferred or files:
        return (preferred or files)[0]
    raise FileNotFoundError(f"no model file in {path}")


class _Loaded:
    """A framework's model behind one interface: predict (classes or values) and probabilities."""

    def __init__(self, fmt: str, path: Path) -> None:
        self.fmt = fmt
        self.n_features: int | None = None
        self.classes: list[Any] | None = None
        if fmt == "sklearn":
            import joblib

            self.model = joblib.load(_model_file(path, (".joblib", ".pkl", ".pickle")))
            self.n_features = getattr(self.model, "n_features_in_", None)
            classes = getattr(self.model, "classes_", None)
            self.classes = list(classes.tolist()) if classes is not None else None
        elif fmt == "xgboost":
            import xgboost

            self.model = xgboost.Booster(model_file=str(_model_file(path, (".json", ".ubj", ".bst"))))
            self.n_features = self.model.num_features()
        elif fmt == "lightgbm":
            import lightgbm

            self.model = lightgbm.Booster(model_file=str(_model_file(path, (".txt", ".lgb"))))
            self.n_features = self.model.num_feature()
        else:
            import mlflow.pyfunc

            self.model = mlflow.pyfunc.load_model(str(path))

    def predict(self, batch: Any, probabilities: bool) -> Any:
        import numpy as np

        if self.fmt == "sklearn":
            if probabilities:
                if not hasattr(self.model, "predict_proba"):
                    raise ValueError("this model gives no probabilities (it has no predict_proba)")
                return self.model.predict_proba(batch)
            return self.model.predict(batch)
        if self.fmt == "xgboost":
            import xgboost

            out = self.model.predict(xgboost.DMatrix(batch))
        elif self.fmt == "lightgbm":
            out = self.model.predict(batch)
        else:
            return np.asarray(self.model.predict(batch))
        # Boosters answer scores; a 2-D answer is one probability per class.
        if out.ndim == 2 and not probabilities:
            return out.argmax(axis=1)
        return out


def _wants_probabilities(parameters: Any) -> bool:
    if not isinstance(parameters, dict):
        return False
    for key in PROBABILITY_KEYS:
        value = parameters.get(key)
        if value is None:
            continue
        # v2 gRPC-style parameters arrive as objects with a bool_param.
        value = getattr(value, "bool_param", value)
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes")
        return bool(value)
    return False


def _build_model(args: argparse.Namespace) -> Any:
    import numpy as np
    from kserve import Model
    from kserve.errors import InvalidInput
    from kserve.protocol.infer_type import InferRequest
    from kserve.utils.utils import get_predict_response

    loaded = _Loaded(args.format, Path(args.model_path))

    class PipeyardModel(Model):  # type: ignore[misc]
        def load(self) -> bool:
            self.ready = True
            return True

        def _batch(self, payload: Any) -> Any:
            if isinstance(payload, InferRequest):
                if not payload.inputs:
                    raise InvalidInput("the request has no inputs")
                tensor = payload.inputs[0]
                try:
                    batch = tensor.as_numpy()
                except Exception as e:  # kserve raises several types for bad tensors
                    raise InvalidInput(f"input {tensor.name!r}: {e}") from e
                if batch.dtype.kind not in "biuf":
                    raise InvalidInput(f"input {tensor.name!r}: datatype {tensor.datatype} is not numeric")
            else:
                if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
                    raise InvalidInput('expected a JSON object {"instances": [[...], ...]}')
                try:
                    batch = np.asarray(payload["instances"], dtype=np.float64)
                except (TypeError, ValueError) as e:
                    raise InvalidInput(f"instances must be a list of rows of numbers: {e}") from e
            if batch.ndim == 1 and loaded.n_features not in (None, 1):
                raise InvalidInput(
                    f"expected a batch of rows of {loaded.n_features} numbers (shape [N, {loaded.n_features}]), "
                    f"got shape {list(batch.shape)}"
                )
            if batch.ndim != 2:
                raise InvalidInput(f"expected a 2-D batch of rows, got shape {list(batch.shape)}")
            if loaded.n_features is not None and batch.shape[1] != loaded.n_features:
                raise InvalidInput(
                    f"each row needs {loaded.n_features} features, got {batch.shape[1]} "
                    f"(shape {list(batch.shape)})"
                )
            return batch

        def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
            batch = self._batch(payload)
            parameters = payload.parameters if isinstance(payload, InferRequest) else payload.get("parameters")
            try:
                result = loaded.predict(batch, _wants_probabilities(parameters))
            except ValueError as e:
                raise InvalidInput(str(e)) from e
            return get_predict_response(payload, np.asarray(result), self.name)

    model = PipeyardModel(args.model_name)
    model.load()
    return model


class _BearerCheck:
    """Every path but the health probes needs the deployment's token when it has one."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/v2/health"):
            given = dict(scope.get("headers", ())).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"error": "missing or wrong bearer token"}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _answer_malformed_json_with_400(app: Any) -> None:
    """FastAPI answers an unparsable v2 body with 422 and {"detail": ...}; both protocols
    should answer it the way KServe answers every other bad request."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    async def handler(_request: Any, exc: Exception) -> Any:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
        return JSONResponse({"error": "invalid request: " + ("; ".join(parts) or str(exc))}, status_code=400)

    app.add_exception_handler(RequestValidationError, handler)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    # kserve parses sys.argv when imported; it must not see (or trip over) ours.
    sys.argv = sys.argv[:1]
    import kserve.model_server as kserve_server
    from kserve import ModelServer
    from kserve.protocol.rest.server import RESTServer

    model = _build_model(args)
    server = ModelServer(http_port=args.bind_port, enable_grpc=False, workers=1, enable_latency_logging=False)
    # KServe logs two timing lines per request (its logging is configured by ModelServer
    # above, so this comes after); the access log already records each request.
    import logging

    logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    server.register_model(model)
    _answer_malformed_json_with_400(kserve_server.app)
    token = os.environ.pop(TOKEN_ENV, "")
    if token:
        kserve_server.app.add_middleware(_BearerCheck, token=token)
    rest = RESTServer(
        kserve_server.FASTAPI_APP_IMPORT_STRING,
        server.dataplane,
        server.model_repository_extension,
        args.bind_port,
        grace_period=3,
    )
    rest.config.host = args.bind_host
    print(f"pipeyard: serving {args.format} model {args.model_name!r} from {args.model_path} "
          f"on http://{args.bind_host}:{args.bind_port}", flush=True)
    rest.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
