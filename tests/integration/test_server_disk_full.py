"""The server on a disk that fills up (the default layout: database, artifacts and
logs on one disk), for real: a small tmpfs as PIPEYARD_HOME and a real server.

A task that fills the disk fails its run with the reason and its partial output is
removed; while the disk is full, state-changing requests get 507 with a message
(never 500); once space is freed the server works again without a restart."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import shutil
from pathlib import Path
from typing import Any

from kfp import compiler
from tests.support.disk_pipelines import SIZE_MB, fill_pipeline, small_pipeline
from tests.support.disks import fill_up, small_tmpfs

DISK_FULL_MESSAGE = "the server's disk is full: free space, then try again"


def _create_run(http: Any, spec: Path) -> Any:
    import yaml

    body = {"display_name": "r", "pipeline_spec": yaml.safe_load(spec.read_text())}
    return http.post("/apis/v2beta1/runs", json=body)


def test_a_full_disk_fails_the_run_then_answers_507_until_space_is_freed(start_server: Any, tmp_path: Path) -> None:
    fill_yaml, small_yaml = tmp_path / "fill.yaml", tmp_path / "small.yaml"
    compiler.Compiler().compile(fill_pipeline, str(fill_yaml))
    compiler.Compiler().compile(small_pipeline, str(small_yaml))
    with small_tmpfs(tmp_path / "home", SIZE_MB) as home:
        srv = start_server(home=home, args=["--workers", "1"],
                           env={"PIPEYARD_ENVS_DIR": str(tmp_path / "envs")})
        with srv.http() as http:
            # The database is in use before the disk fills, as on any used machine.
            first = _create_run(http, small_yaml)
            assert first.status_code == 200, first.text
            assert srv.wait_run(http, first.json()["run_id"])["state"] == "SUCCEEDED"

            created = _create_run(http, fill_yaml)
            assert created.status_code == 200, created.text
            run = srv.wait_run(http, created.json()["run_id"])
            assert run["state"] == "FAILED", run
            assert "No space left on device" in run["error"]["message"], run["error"]
            # The partial output is gone and the space is back.
            leftovers = [p for p in (home / "artifacts").rglob("*") if p.is_file() and p.stat().st_size > (1 << 20)]
            assert leftovers == []
            assert shutil.disk_usage(home).free > (SIZE_MB // 2) << 20

            # Now something else fills the disk: the server refuses with 507 and says why.
            ballast = home / "ballast"
            fill_up(ballast)
            refused = _create_run(http, small_yaml)
            assert refused.status_code == 507, refused.text
            assert refused.json()["error_message"] == DISK_FULL_MESSAGE
            # Reads still work, on the same connection.
            assert http.get(f"/apis/v2beta1/runs/{run['run_id']}").json()["state"] == "FAILED"

            ballast.unlink()
            again = _create_run(http, small_yaml)
            assert again.status_code == 200, again.text
            done = srv.wait_run(http, again.json()["run_id"])
            assert done["state"] == "SUCCEEDED", done
        srv.stop()
