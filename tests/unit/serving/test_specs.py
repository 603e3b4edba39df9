"""Deployment requests: names, the host rule, replicas, and the deploy_model task outside a server."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from pipeyard.config import Settings
from pipeyard.errors import FailedPrecondition, InvalidArgument
from pipeyard.serving.from_task import deploy_from_task
from pipeyard.serving.specs import DeploymentSpec, check_host, check_name, prepare, url_for


def test_names() -> None:
    for good in ("iris", "iris-v2", "Model_1.0", "a"):
        assert check_name(good) == good
    for bad in ("", "-iris", "iris-", "has space", "a/b", "x" * 64, "iris:predict"):
        with pytest.raises(InvalidArgument, match="not a deployment name"):
            check_name(bad)


def test_hosts_follow_the_server_rule() -> None:
    assert check_host("127.0.0.1", token_set=False) == "127.0.0.1"
    assert check_host("::1", token_set=False) == "::1"
    assert check_host("localhost", token_set=False) == "localhost"
    with pytest.raises(InvalidArgument, match="PIPEYARD_AUTH_TOKEN"):
        check_host("0.0.0.0", token_set=False)
    assert check_host("0.0.0.0", token_set=True) == "0.0.0.0"
    assert url_for("0.0.0.0", 9000) == "http://127.0.0.1:9000"
    assert url_for("::1", 9000) == "http://[::1]:9000"


def test_prepare_checks_everything_before_anything_is_stored(tmp_path: Path) -> None:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    model = tmp_path / "model"
    model.write_bytes(pickle.dumps([1]))
    d = prepare(DeploymentSpec(name="iris", model=str(model), port=9100), None, settings, token_set=False)
    assert (d.name, d.framework, d.port, d.url, d.state, d.desired) == (
        "iris", "sklearn", 9100, "http://127.0.0.1:9100", "PENDING", "apply"
    )
    with pytest.raises(InvalidArgument, match="replicas"):
        prepare(DeploymentSpec(name="iris", model=str(model), replicas=2), None, settings, token_set=False)
    with pytest.raises(InvalidArgument, match="port 70000"):
        prepare(DeploymentSpec(name="iris", model=str(model), port=70000), None, settings, token_set=False)
    with pytest.raises(InvalidArgument, match="unknown runtime 'seldon'"):
        prepare(DeploymentSpec(name="iris", model=str(model), runtime="seldon"), None, settings, token_set=False)


def test_deploy_model_outside_a_server_says_what_it_needs(pipeyard_home: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_bytes(pickle.dumps([1]))
    with pytest.raises(FailedPrecondition, match="pipeyard server"):
        deploy_from_task(str(model), name="iris")
    with pytest.raises(InvalidArgument, match="unknown action 'remove'"):
        deploy_from_task(str(model), name="iris", action="remove")
