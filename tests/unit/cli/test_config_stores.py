"""`pipeyard secrets` and `pipeyard configmaps`: what the platform mapping reads."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from pipeyard.cli.main import cli
from pipeyard.cli.service_cmds import register
from pipeyard.secrets import SecretStore

register(cli)


def test_configmaps_are_stored_where_the_engine_reads_them(pipeyard_home: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["configmaps", "set", "app-config", "mode=fast", "level=3"])
    assert done.exit_code == 0, done.output
    assert SecretStore(pipeyard_home / "configmaps", "configmap").get("app-config") == {
        "mode": "fast", "level": "3"}
    listed = runner.invoke(cli, ["configmaps", "list"])
    assert "app-config: level, mode" in listed.output


def test_secret_values_are_private_and_never_listed(pipeyard_home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["secrets", "set", "db", "password=hunter2"]).exit_code == 0
    path = pipeyard_home / "secrets" / "db.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = runner.invoke(cli, ["secrets", "list"])
    assert "db: password" in listed.output and "hunter2" not in listed.output
    bad = runner.invoke(cli, ["secrets", "set", "db", "no-equals-sign"])
    assert bad.exit_code != 0 and "KEY=VALUE" in bad.output
