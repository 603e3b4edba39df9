"""The one place where errors become HTTP responses.

Every error body has KFP's shape (``googleRpcStatus`` plus the ``error_message`` that
KFP's API server also sends), so ``kfp.Client`` and the UI read the same thing whatever
went wrong.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeyard.errors import (
    AlreadyExists,
    FailedPrecondition,
    Forbidden,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    PipeyardError,
    SpecError,
    is_disk_full,
)

log = logging.getLogger(__name__)

# gRPC status codes, which KFP puts in ``code`` (not the HTTP status).
_GRPC_CODE = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 413: 8, 422: 3, 500: 13, 503: 14, 507: 8}


# Domain errors to HTTP statuses; the nearest class in an error's MRO decides, and a
# PipeyardError that is none of these is the server's fault (500).
HTTP_STATUS: dict[type[PipeyardError], int] = {
    SpecError: 400,
    InvalidArgument: 400,
    Forbidden: 403,
    NotFound: 404,
    AlreadyExists: 409,
    FailedPrecondition: 409,
    PayloadTooLarge: 413,
}


def http_status(exc: PipeyardError) -> int:
    for cls in type(exc).__mro__:
        status = HTTP_STATUS.get(cls)
        if status is not None:
            return status
    return 500


def error_body(status: int, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {
        "error_message": message,
        "code": _GRPC_CODE.get(status, 2),
        "message": message,
        "details": details or [],
    }


def error_response(status: int, message: str, details: list[Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, details), status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "invalid request: " + "; ".join(parts or ["malformed"])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PipeyardError)
    async def _pipeyard(_request: Request, exc: PipeyardError) -> JSONResponse:
        status = http_status(exc)
        if status >= 500:
            log.exception("internal error", exc_info=exc)
        return error_response(status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # KFP answers a malformed request with 400 (INVALID_ARGUMENT), not FastAPI's 422.
        return error_response(400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        message = str(exc.detail)
        if isinstance(exc.__cause__, RecursionError):  # FastAPI's wrapping of the JSON parser's error
            message = "invalid request: the document is nested too deeply"
        resp = error_response(exc.status_code, message)
        if headers:
            resp.headers.update(headers)
        return resp

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        # Raised by the JSON parser on a body nested thousands deep.
        return error_response(400, "invalid request: the document is nested too deeply")

    @app.exception_handler(UnicodeEncodeError)
    async def _bad_text(_request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        # A lone surrogate (JSON "\\ud800") is valid JSON but not text any store can keep.
        return error_response(400, f"invalid request: text that is not valid Unicode ({exc.reason})")

    @app.exception_handler(OverflowError)
    async def _too_big(_request: Request, _exc: OverflowError) -> JSONResponse:
        return error_response(400, "invalid request: a number is larger than 64 bits")

    # Storage errors (a full disk above all) are answered here, not by the catch-all
    # below: Starlette re-raises what reaches the catch-all after answering, and the
    # server then drops the connection, so a client's next keep-alive request failed.
    @app.exception_handler(OSError)
    @app.exception_handler(DBAPIError)
    async def _storage(_request: Request, exc: Exception) -> JSONResponse:
        return _answer_unexpected(exc)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return _answer_unexpected(exc)


def _answer_unexpected(exc: Exception) -> JSONResponse:
    if is_disk_full(exc):
        log.error("disk full: %s", exc)
        return error_response(507, "the server's disk is full: free space, then try again")
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, f"internal error: {type(exc).__name__}: {exc}")
