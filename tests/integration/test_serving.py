"""Serving, end to end: a real pipeyard server runs the iris example that trains and deploys
(submitted with the real kfp.Client), a real KServe model server answers over both
protocols, and the server keeps it alive (killed, restarted, deleted). ``pipeyard serve``
serves the same model in the foreground.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.conftest import ServerFactory, ServerProcess, free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
API = "/apis/pipeyard/v1/deployments"
DEADLINE = 180.0
# Raw measurements (cm) of one flower of each class, in iris feature order.
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.0, 2.7, 4.2, 1.3], [6.7, 3.0, 5.2, 2.3]]
CLASSES = [0, 1, 2]
JSON = {"Content-Type": "application/json"}


def wait_for(check: Any, what: str, deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    last: Any = None
    while time.monotonic() < end:
        with contextlib.suppress(httpx.HTTPError):
            last = check()
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def deployment(server: ServerProcess, name: str) -> dict[str, Any]:
    with server.http() as http:
        answer = http.get(f"{API}/{name}")
        answer.raise_for_status()
        return dict(answer.json())


def wait_ready(server: ServerProcess, name: str, *, not_pid: int | None = None) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        d = deployment(server, name)
        assert d["state"] != "FAILED", d
        if d["state"] == "READY" and d["pid"] != not_pid:
            return d
        return None

    return wait_for(ready, f"deployment {name} READY")  # type: ignore[no-any-return]


def predict_v1(url: str, name: str, rows: list[list[float]], **extra: Any) -> httpx.Response:
    return httpx.post(f"{url}/v1/models/{name}:predict", json={"instances": rows, **extra}, timeout=30)


def infer_v2(url: str, name: str, rows: list[list[float]], **extra: Any) -> httpx.Response:
    body = {
        "inputs": [{"name": "input-0", "shape": [len(rows), 4], "datatype": "FP64",
                    "data": [v for row in rows for v in row]}],
        **extra,
    }
    return httpx.post(f"{url}/v2/models/{name}/infer", json=body, timeout=30)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        # A zombie is dead for our purposes.
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return False


@pytest.fixture(scope="module")
def deploy_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kfp import compiler

    out = tmp_path_factory.mktemp("compiled") / "iris_deploy.yaml"
    sys.path.insert(0, str(EXAMPLES))
    try:
        from iris_deploy_pipeline import iris_deploy_pipeline  # type: ignore[import-not-found]

        compiler.Compiler().compile(iris_deploy_pipeline, str(out))
    finally:
        sys.path.remove(str(EXAMPLES))
    return out


@pytest.fixture(scope="module")
def served(module_servers: ServerFactory, deploy_yaml: Path) -> Iterator[dict[str, Any]]:
    """The server, and the run of the train-and-deploy pipeline it executed."""
    server = module_servers()
    client = server.client()
    run = client.create_run_from_pipeline_package(str(deploy_yaml), arguments={"deployment_name": "iris"})
    done = client.wait_for_run_completion(run.run_id, timeout=DEADLINE)
    with server.http() as http:
        tasks = http.get(f"/apis/pipeyard/v1/runs/{run.run_id}/tasks").json()["tasks"]
    assert done.state == "SUCCEEDED", (done.state, [(t["name"], t.get("error")) for t in tasks],
                                       server.log_tail())
    deploy_task = next(t for t in tasks if t["name"] == "deploy-model")
    yield {"server": server, "run_id": run.run_id, "deploy_task": deploy_task}


def test_the_pipeline_deploys_its_model_and_the_reported_url_answers_both_protocols(
    served: dict[str, Any],
) -> None:
    server = served["server"]
    d = wait_ready(server, "iris")
    url = served["deploy_task"]["outputs"]["parameters"]["Output"]
    assert url == d["url"] and url.startswith("http://127.0.0.1:")
    assert d["run_id"] == served["run_id"] and d["task"] == "train"
    assert d["framework"] == "sklearn" and d["model_uri"].endswith("/train/model")

    v1 = predict_v1(url, "iris", ROWS)
    assert v1.status_code == 200, v1.text
    assert v1.json() == {"predictions": CLASSES}
    v2 = infer_v2(url, "iris", ROWS)
    assert v2.status_code == 200, v2.text
    out = v2.json()["outputs"][0]
    assert (out["shape"], out["data"], out["datatype"]) == ([3], CLASSES, "INT64")

    # Probabilities when asked for: one row per instance, three classes, summing to one.
    probs = predict_v1(url, "iris", ROWS, parameters={"probabilities": True}).json()["predictions"]
    assert [max(range(3), key=row.__getitem__) for row in probs] == CLASSES
    assert all(abs(sum(row) - 1.0) < 1e-6 for row in probs)
    v2_probs = infer_v2(url, "iris", ROWS, parameters={"probabilities": True}).json()["outputs"][0]
    assert v2_probs["shape"] == [3, 3]

    assert httpx.get(f"{url}/v2/health/ready").status_code == 200
    assert httpx.get(f"{url}/v2/models/iris/ready").status_code == 200
    assert httpx.get(f"{url}/v1/models/iris").json()["ready"] is True
    assert httpx.get(f"{url}/v2/models/iris").json()["name"] == "iris"
    with server.http() as http:
        listed = http.get(API).json()["deployments"]
        # The UI's try-it route forwards one request and returns the model server's answer.
        tried = http.post(f"{API}/iris/try", json={"protocol": "v1", "body": {"instances": ROWS}}).json()
        bad = http.post(f"{API}/iris/try", json={"protocol": "v2", "body": {"inputs": []}}).json()
        assert http.post(f"{API}/nope/try", json={"protocol": "v1", "body": {}}).status_code == 404
    assert tried == {"status": 200, "url": f"{url}/v1/models/iris:predict", "response": {"predictions": CLASSES}}
    assert bad["status"] == 400 and bad["response"]["error"]
    assert [x["name"] for x in listed] == ["iris"]
    assert set(listed[0]) >= {"name", "state", "url", "model_uri", "run_id", "task", "created_at"}


@pytest.mark.parametrize(
    ("path", "body", "content"),
    [
        ("v1", {"instances": [[1.0, 2.0]]}, None),  # wrong shape
        ("v1", {"instances": [["a", "b", "c", "d"]]}, None),  # not numbers
        ("v1", {"rows": [[1, 2, 3, 4]]}, None),  # no instances
        ("v1", None, b"this is not json"),
        ("v2", {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}, None),
        ("v2", {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": ["a", "b", "c", "d"]}]},
         None),
        ("v2", {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "BYTES", "data": ["a", "b", "c", "d"]}]},
         None),
        ("v2", {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3]}]}, None),
        ("v2", None, b"{not json"),
    ],
)
def test_bad_requests_get_4xx_with_an_error_message(
    served: dict[str, Any], path: str, body: Any, content: bytes | None
) -> None:
    url = wait_ready(served["server"], "iris")["url"]
    target = f"{url}/v1/models/iris:predict" if path == "v1" else f"{url}/v2/models/iris/infer"
    if content is not None:
        answer = httpx.post(target, content=content, headers=JSON, timeout=30)
    else:
        answer = httpx.post(target, json=body, timeout=30)
    assert 400 <= answer.status_code < 500, answer.text
    assert isinstance(answer.json()["error"], str) and answer.json()["error"]


def test_a_killed_model_server_comes_back(served: dict[str, Any]) -> None:
    server = served["server"]
    before = wait_ready(server, "iris")
    os.kill(before["pid"], signal.SIGKILL)
    after = wait_ready(server, "iris", not_pid=before["pid"])
    assert after["restarts"] >= before["restarts"] + 1
    assert after["url"] == before["url"], "a restarted model server keeps its URL"
    assert predict_v1(after["url"], "iris", ROWS).json() == {"predictions": CLASSES}


def test_a_deployment_from_the_api_is_deleted_and_its_process_stopped(served: dict[str, Any]) -> None:
    server = served["server"]
    with server.http() as http:
        created = http.post(API, json={"name": "iris-api", "model": f"{served['run_id']}/train/model"})
        assert created.status_code == 200, created.text
        assert created.json()["state"] == "PENDING"
    d = wait_ready(server, "iris-api")
    assert predict_v1(d["url"], "iris-api", ROWS[:1]).json() == {"predictions": [0]}
    with server.http() as http:
        logs = http.get(f"{API}/iris-api/logs")
        assert logs.status_code == 200 and "serving sklearn model 'iris-api'" in logs.text
        assert http.delete(f"{API}/iris-api").status_code == 200
        assert http.get(f"{API}/iris-api").status_code == 404
        assert "iris-api" not in [x["name"] for x in http.get(API).json()["deployments"]]
        assert http.delete(f"{API}/iris-api").status_code == 404
    wait_for(lambda: not alive(d["pid"]), "the model server to exit", 30)
    with pytest.raises(httpx.HTTPError):
        predict_v1(d["url"], "iris-api", ROWS[:1])


def test_bad_deployment_requests_are_refused(served: dict[str, Any], tmp_path: Path) -> None:
    unknown = tmp_path / "weights.bin"
    unknown.write_bytes(b"\x00\x01 not a model")
    with served["server"].http() as http:
        cases = [
            ({"name": "bad name!", "model": f"{served['run_id']}/train/model"}, "name"),
            ({"name": "x", "model": str(tmp_path / "missing")}, "no model files"),
            ({"name": "x", "model": str(unknown)}, "sklearn"),
            ({"name": "x", "model": f"{served['run_id']}/nosuchtask/model"}, "no task"),
            ({"name": "x", "model": f"{served['run_id']}/train/nosuchoutput"}, "no output artifact"),
            ({"name": "x", "model": f"{served['run_id']}/train/model", "host": "0.0.0.0"}, "PIPEYARD_AUTH_TOKEN"),
            ({"name": "x", "model": f"{served['run_id']}/train/model", "replicas": 3}, "replicas"),
        ]
        for body, needle in cases:
            answer = http.post(API, json=body)
            assert answer.status_code == 400, (body, answer.text)
            assert needle in answer.json()["error_message"], (body, answer.text)
        assert "x" not in [d["name"] for d in http.get(API).json()["deployments"]]


def test_deployments_are_restored_after_a_server_restart(served: dict[str, Any]) -> None:
    server = served["server"]
    before = wait_ready(server, "iris")
    server.restart()
    after = wait_ready(server, "iris", not_pid=before["pid"])
    assert after["url"] == before["url"]
    assert infer_v2(after["url"], "iris", ROWS).json()["outputs"][0]["data"] == CLASSES
    assert not alive(before["pid"]), "the old model server stopped with its server"


def test_pipeyard_serve_serves_a_run_output_in_the_foreground(served: dict[str, Any]) -> None:
    server = served["server"]
    port = free_port()
    env = {**server.env(), "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pipeyard.cli.main", "serve", f"{served['run_id']}/train/model",
               "--name", "iris-cli", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200, "pipeyard serve",
                 120)
        assert predict_v1(url, "iris-cli", ROWS).json() == {"predictions": CLASSES}
        assert infer_v2(url, "iris-cli", ROWS).json()["outputs"][0]["data"] == CLASSES
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0].decode()
    assert "Serving sklearn model 'iris-cli'" in output
    assert f"run {served['run_id']}, task train" in output


def test_pipeyard_serve_names_the_understood_formats_for_an_unknown_one(tmp_path: Path) -> None:
    unknown = tmp_path / "weights.bin"
    unknown.write_bytes(b"\x00\x01 not a model")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-m", "pipeyard.cli.main", "serve", str(unknown), "--name", "m"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    for fmt in ("scikit-learn", "XGBoost", "LightGBM", "MLflow"):
        assert fmt in result.stderr, result.stderr


def test_cli_deploys_on_a_server_lists_and_deletes(served: dict[str, Any]) -> None:
    server = served["server"]
    env = {**server.env(), "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeyard.cli.main", *args], env=env, capture_output=True,
                              text=True, timeout=300)

    made = cli("serve", f"{served['run_id']}/train/model", "--name", "iris-remote", "--server", server.url)
    assert made.returncode == 0, made.stderr
    assert "Deployment 'iris-remote' is READY at http://127.0.0.1:" in made.stdout
    listed = json.loads(cli("deployments", "list", "--server", server.url, "--json").stdout)["deployments"]
    mine = next(d for d in listed if d["name"] == "iris-remote")
    assert predict_v1(mine["url"], "iris-remote", ROWS).json() == {"predictions": CLASSES}
    logs = cli("deployments", "logs", "iris-remote", "--server", server.url)
    assert "serving sklearn model 'iris-remote'" in logs.stdout
    gone = cli("deployments", "delete", "iris-remote", "--server", server.url)
    assert gone.returncode == 0 and "Deleted deployment 'iris-remote'" in gone.stdout
    assert "iris-remote" not in cli("deployments", "list", "--server", server.url).stdout
    again = cli("deployments", "delete", "iris-remote", "--server", server.url)
    assert again.returncode != 0 and "not found" in again.stderr
