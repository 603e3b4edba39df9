"""Inputs that used to take the server down or answer 500, sent to a real server.

Each attack is bounded (tens of MB at most, loopback only) and checks the answer and
that nothing was stored.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest

from pipeyard.server.body_limit import MAX_BODY_BYTES

MINIMAL: dict[str, Any] = {
    "pipelineInfo": {"name": "tiny"},
    "schemaVersion": "2.1.0",
    "components": {"comp-echo": {"executorLabel": "exec-echo"}},
    "deploymentSpec": {"executors": {"exec-echo": {"container": {"image": "alpine", "command": ["echo", "hi"]}}}},
    "root": {
        "dag": {"tasks": {"a": {"componentRef": {"name": "comp-echo"}, "taskInfo": {"name": "a"}}}},
        "inputDefinitions": {"parameters": {"x": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 1.0}}},
    },
}


@pytest.fixture(scope="module")
def srv(module_servers: Any) -> Any:
    return module_servers(args=["--workers", "0"])


def _read_status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


def test_declared_oversized_upload_is_refused_before_the_body(srv: Any) -> None:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        sock.sendall(
            b"POST /apis/v2beta1/pipelines/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {500 * 1024 * 1024}\r\n\r\n".encode()
        )
        sock.sendall(b"x" * 65536)
        # Answered while 500 MB are still to come: nothing waited for (or stored) the body.
        assert _read_status(sock) == 413


def test_chunked_oversized_upload_is_cut_off_at_the_limit(srv: Any) -> None:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as sock:
        sock.sendall(
            b"POST /apis/v2beta1/pipelines/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        prologue = b'--b\r\nContent-Disposition: form-data; name="uploadfile"; filename="p.yaml"\r\n\r\n'
        sock.sendall(f"{len(prologue):x}\r\n".encode() + prologue + b"\r\n")
        block = b"y" * (1024 * 1024)
        status: list[int] = []
        reader = threading.Thread(target=lambda: status.append(_read_status(sock)), daemon=True)
        reader.start()
        sent = 0
        try:
            while sent <= MAX_BODY_BYTES + 4 * len(block) and reader.is_alive():
                sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                sent += len(block)
        except OSError:
            pass  # the server closed the connection after answering
        reader.join(60)
    assert status == [413]
    with srv.http() as http:
        assert http.get("/apis/v2beta1/pipelines").json().get("pipelines", []) == []


def test_deeply_nested_json_body_is_400(srv: Any) -> None:
    body = b'{"display_name": "deep", "pipeline_spec": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    with srv.http() as http:
        resp = http.post("/apis/v2beta1/runs", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400
        assert "nested too deeply" in resp.json()["error_message"]
        assert http.get("/apis/v2beta1/runs").json().get("runs", []) == []


def test_deeply_nested_yaml_upload_is_400(srv: Any) -> None:
    with srv.http() as http:
        resp = http.post(
            "/apis/v2beta1/pipelines/upload", files={"uploadfile": ("deep.yaml", b"[" * 50_000 + b"]" * 50_000)}
        )
        assert resp.status_code == 400
        assert "nested too deeply" in resp.json()["error_message"]


def test_alias_bomb_upload_is_400(srv: Any) -> None:
    bomb = "\n".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)
    )
    text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + bomb + "\n"
    with srv.http() as http:
        resp = http.post("/apis/v2beta1/pipelines/upload", files={"uploadfile": ("bomb.yaml", text.encode())})
        assert resp.status_code == 400
        assert "aliases expand" in resp.json()["error_message"]
        assert http.get("/apis/v2beta1/pipelines").json().get("pipelines", []) == []


def test_recursive_spec_is_400_at_run_creation(srv: Any) -> None:
    spec = json.loads(json.dumps(MINIMAL))
    spec["components"]["comp-self"] = {
        "dag": {"tasks": {"again": {"componentRef": {"name": "comp-self"}, "taskInfo": {"name": "again"}}}}
    }
    spec["root"]["dag"]["tasks"]["s"] = {"componentRef": {"name": "comp-self"}, "taskInfo": {"name": "s"}}
    with srv.http() as http:
        resp = http.post("/apis/v2beta1/runs", json={"display_name": "r", "pipeline_spec": spec})
        assert resp.status_code == 400
        assert "contains itself" in resp.json()["error_message"]
        assert http.get("/apis/v2beta1/runs").json().get("runs", []) == []


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_parameters_are_400(srv: Any, value: str) -> None:
    body = (
        '{"display_name": "nan", "pipeline_spec": ' + json.dumps(MINIMAL)
        + ', "runtime_config": {"parameters": {"x": ' + value + "}}}"
    ).encode()
    with srv.http() as http:
        resp = http.post("/apis/v2beta1/runs", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400
        assert "not a JSON number" in resp.json()["error_message"]


def test_lone_surrogates_are_400(srv: Any) -> None:
    with srv.http() as http:
        resp = http.post(
            "/apis/v2beta1/experiments",
            content=b'{"display_name": "bad \\ud800 name"}',
            headers={"Content-Type": "application/json"},
        )
        assert resp.status_code == 400
        resp = http.get("/apis/v2beta1/runs", params={"filter": '{"predicates": [{"key": "name", "operation": "EQUALS", "string_value": "\\ud800"}]}'})
        assert resp.status_code == 400
        assert "not valid Unicode" in resp.json()["error_message"]
        assert [e["display_name"] for e in http.get("/apis/v2beta1/experiments").json().get("experiments", [])] == ["Default"]


def test_integers_beyond_64_bits_are_400(srv: Any) -> None:
    huge = 2**70
    with srv.http() as http:
        flt = json.dumps({"predicates": [{"key": "created_at", "operation": "GREATER_THAN", "int_value": str(huge)}]})
        assert http.get("/apis/v2beta1/runs", params={"filter": flt}).status_code == 400
        resp = http.get("/apis/pipeyard/v1/artifacts/x/content", params={"max_bytes": str(huge)})
        assert resp.status_code == 400


def test_upload_of_a_normal_pipeline_still_works(srv: Any) -> None:
    with srv.http() as http:
        resp = http.post(
            "/apis/v2beta1/pipelines/upload?name=fine", files={"uploadfile": ("p.json", json.dumps(MINIMAL).encode())}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["display_name"] == "fine"
