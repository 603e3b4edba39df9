"""The task's base environment: this process's, less the server's secrets, and current
even though it is computed once and reused while os.environ does not change."""

from __future__ import annotations

import pytest

from pipeyard.launchers.host_env import task_base_env


def test_secrets_are_left_out_and_changes_are_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPEYARD_AUTH_TOKEN", "secret")
    monkeypatch.setenv("PIPEYARD_TEST_BASE_ENV", "1")
    first = task_base_env()
    assert "PIPEYARD_AUTH_TOKEN" not in first
    assert first["PIPEYARD_TEST_BASE_ENV"] == "1"
    first["PIPEYARD_TEST_BASE_ENV"] = "changed by a caller"
    assert task_base_env()["PIPEYARD_TEST_BASE_ENV"] == "1"  # each caller gets its own copy
    monkeypatch.setenv("PIPEYARD_TEST_BASE_ENV", "2")
    assert task_base_env()["PIPEYARD_TEST_BASE_ENV"] == "2"
    monkeypatch.delenv("PIPEYARD_TEST_BASE_ENV")
    assert "PIPEYARD_TEST_BASE_ENV" not in task_base_env()


def test_a_given_mapping_is_filtered_as_it_is() -> None:
    assert task_base_env({"A": "1", "PIPEYARD_DATABASE_URL": "postgresql://u:p@h/db"}) == {"A": "1"}
