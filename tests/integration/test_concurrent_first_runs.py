"""Several processes creating their first run at once on a fresh database: the
Default experiment, the pipeline and its version are each created exactly once
and every process gets its run (issue 16: check-then-create crashed some)."""

# No `from __future__ import annotations`: kfp reads component annotations at decoration time.

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from kfp import compiler, dsl

from pipeyard.entities import ListQuery
from pipeyard.store import open_store

PROCESSES = 6
# Guards against a hung child, never a performance assertion.
DEADLINE_SECONDS = 240

_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pipeyard.ir.loader import load_pipeline_file
    from pipeyard.store import open_store
    from pipeyard.submission.runs import create_run

    db, spec, go, ready = sys.argv[1:5]
    loaded = load_pipeline_file(spec)
    with open_store(db) as store:
        Path(ready).touch()
        # Everyone imported and opened the store: start together, so that the
        # creations overlap as much as processes allow.
        while not Path(go).exists():
            time.sleep(0.01)
        run = create_run(store, loaded, {}, pipeline_root="/tmp/unused", enable_caching=None)
        print(run.run_id)
""")


@dsl.component
def noop() -> None:
    pass


@dsl.pipeline(name="first-runs")
def first_runs() -> None:
    noop()


def test_concurrent_first_runs_create_defaults_once(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    compiler.Compiler().compile(first_runs, str(spec))
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with open_store(db):
        pass  # migrated once up front: this test is about the rows, not the schema
    go = tmp_path / "go"
    procs = []
    for i in range(PROCESSES):
        ready = tmp_path / f"ready-{i}"
        procs.append((ready, subprocess.Popen(
            [sys.executable, "-c", _CHILD, db, str(spec), str(go), str(ready)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        for ready, proc in procs:
            while not ready.exists():
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "a child never got ready"
                time.sleep(0.05)
        go.touch()
        results = [proc.communicate(timeout=DEADLINE_SECONDS) for _, proc in procs]
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
    failures = [(p.returncode, err) for (_, p), (_, err) in zip(procs, results, strict=True) if p.returncode]
    assert failures == []
    run_ids = [out.strip() for out, _ in results]
    assert len(set(run_ids)) == PROCESSES
    with open_store(db) as store:
        experiments = store.list_experiments(ListQuery(page_size=50)).items
        assert [e.display_name for e in experiments] == ["Default"]
        pipelines = store.list_pipelines(ListQuery(page_size=50)).items
        assert [p.name for p in pipelines] == ["first-runs"]
        versions = store.list_pipeline_versions(pipelines[0].pipeline_id, ListQuery(page_size=50)).items
        assert len(versions) == 1
        runs = store.list_runs(ListQuery(page_size=50), namespace=None, include_pipeline_spec=False).items
        assert sorted(r.run_id for r in runs) == sorted(run_ids)
        assert {r.experiment_id for r in runs} == {experiments[0].experiment_id}
        assert {r.pipeline_version_id for r in runs} == {versions[0].version_id}
