"""List and get latency with 10,000 runs in the store, and how many SQL statements each takes.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_store.py                    # SQLite in a temp dir
    .venv/bin/python benchmarks/bench_store.py --runs 2000        # quicker
    .venv/bin/python benchmarks/bench_store.py --database-url "$(scripts/start-postgres.sh)"

It measures the store directly and through the HTTP API (in process, without a network
hop), and prints each list page against the peer that KFP's UI is known for: fetching
the page's runs one request at a time (kubeflow/pipelines#11346). The statement count of
a page must not grow with the page size or the table size: that is the "no N+1" check.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipeyard.config import Settings
from pipeyard.entities import ListQuery, Predicate, Run, Task
from pipeyard.server.app import create_app
from pipeyard.store import Store, open_store

STATES = ("SUCCEEDED", "FAILED", "SUCCEEDED", "CANCELED", "SUCCEEDED")
SPEC = {"pipelineInfo": {"name": "bench"}, "root": {"dag": {"tasks": {}}}, "schemaVersion": "2.1.0"}
TASKS_PER_DETAILED_RUN = 8


class StatementCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *_args: Any) -> None:
        self.count += 1

    @contextmanager
    def measure(self) -> Iterator[list[int]]:
        out: list[int] = []
        start = self.count
        yield out
        out.append(self.count - start)


@dataclass
class Result:
    name: str
    median_ms: float
    p95_ms: float
    statements: int


def timed(name: str, fn: Callable[[], Any], counter: StatementCounter, repeat: int) -> Result:
    fn()  # warm caches and pools once
    with counter.measure() as stmts:
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return Result(name, statistics.median(samples), samples[int(len(samples) * 0.95) - 1], stmts[0])


def fill(store: Store, n: int, detailed: int) -> tuple[list[str], float]:
    t0 = time.perf_counter()
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ids = []
    for i in range(n):
        run_id = str(uuid.uuid4())
        created = base + timedelta(seconds=i)
        store.create_run(
            Run(
                run_id=run_id,
                display_name=f"run-{i:05d}",
                pipeline_spec=SPEC,
                state=STATES[i % len(STATES)],  # type: ignore[arg-type]
                created_at=created,
                started_at=created,
                finished_at=created + timedelta(seconds=30),
                parameters={"i": i, "lr": 0.01},
                pipeline_name="bench",
            )
        )
        ids.append(run_id)
    for run_id in ids[-detailed:]:
        for k in range(TASKS_PER_DETAILED_RUN):
            store.put_task(
                Task(
                    task_id=str(uuid.uuid4()),
                    run_id=run_id,
                    path=f"t{k}",
                    name=f"t{k}",
                    display_name=f"t{k}",
                    kind="CONTAINER",
                    state="SUCCEEDED",
                    created_at=base,
                    outputs={"parameters": {"Output": k}, "artifacts": {}},
                )
            )
    return ids, time.perf_counter() - t0


@contextmanager
def scratch_database(url: str | None) -> Iterator[str | None]:
    """PostgreSQL: a schema of our own, dropped afterwards, so the benchmark never
    touches existing data. SQLite: None (a file in the temp home)."""
    if not url or not url.startswith("postgresql"):
        yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            sa.make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--database-url", default=None)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="pipeyard-bench-") as tmp,
        scratch_database(args.database_url) as db,
    ):
        home = Path(tmp)
        env = {"PIPEYARD_HOME": str(home)}
        if db:
            env["PIPEYARD_DATABASE_URL"] = db
        settings = Settings.from_env(env)
        store = open_store(settings.database_url)
        counter = StatementCounter(store.engine)
        print(f"filling {args.runs} runs into {settings.database_url.split('@')[-1]} ...", file=sys.stderr)
        ids, fill_s = fill(store, args.runs, detailed=50)
        app = create_app(settings, store, start_workers=False)
        http = TestClient(app, base_url="http://127.0.0.1")  # the edge policy admits loopback hosts only
        page = args.page_size
        detailed_id = ids[-1]
        deep_token = store.list_runs(
            ListQuery(page_size=args.runs // 2), include_pipeline_spec=False
        ).next_page_token

        def naive_page() -> None:
            # The peer: the page's ids, then one lookup per run (N+1).
            listed = store.list_runs(ListQuery(page_size=page), include_pipeline_spec=False)
            for r in listed.items:
                store.get_run(r.run_id)
                store.list_tasks(r.run_id)

        failed = (Predicate("state", "EQUALS", "FAILED"),)
        results = [
            timed(
                f"store list {page} (newest)",
                lambda: store.list_runs(ListQuery(page_size=page), include_pipeline_spec=False),
                counter,
                args.repeat,
            ),
            timed(
                f"store list {page} (middle page)",
                lambda: store.list_runs(
                    ListQuery(page_size=page, page_token=deep_token), include_pipeline_spec=False
                ),
                counter,
                args.repeat,
            ),
            timed(
                f"store list {page} state=FAILED by name",
                lambda: store.list_runs(
                    ListQuery(predicates=failed, sort_by="display_name", descending=False, page_size=page),
                    include_pipeline_spec=False,
                ),
                counter,
                args.repeat,
            ),
            timed(f"peer: list {page} ids + get each (N+1)", naive_page, counter, max(3, args.repeat // 5)),
            timed(
                "store get_run + tasks",
                lambda: (store.get_run(detailed_id), store.list_tasks(detailed_id)),
                counter,
                args.repeat,
            ),
            timed(
                f"API GET /runs?page_size={page}",
                lambda: http.get(
                    "/apis/v2beta1/runs", params={"page_size": page, "sort_by": "created_at desc"}
                ).raise_for_status(),
                counter,
                args.repeat,
            ),
            timed(
                "API GET /runs filter+sort",
                lambda: http.get(
                    "/apis/v2beta1/runs",
                    params={
                        "page_size": page,
                        "sort_by": "name",
                        "filter": json.dumps(
                            {"predicates": [{"operation": 1, "key": "state", "stringValue": "FAILED"}]}
                        ),
                    },
                ).raise_for_status(),
                counter,
                args.repeat,
            ),
            timed(
                f"API GET /runs/{{id}} ({TASKS_PER_DETAILED_RUN} tasks)",
                lambda: http.get(f"/apis/v2beta1/runs/{detailed_id}").raise_for_status(),
                counter,
                args.repeat,
            ),
        ]
        # Same page size x4: the statement count must not move.
        big = timed(
            f"store list {page * 4}",
            lambda: store.list_runs(ListQuery(page_size=page * 4), include_pipeline_spec=False),
            counter,
            5,
        )
        store.close()

    peer = next(r for r in results if r.name.startswith("peer"))
    if args.json:
        print(
            json.dumps(
                {"runs": args.runs, "fill_seconds": fill_s, "results": [r.__dict__ for r in results + [big]]},
                indent=2,
            )
        )
        return 0
    print(f"\n{args.runs} runs, filled in {fill_s:.1f} s ({settings.database_url.split(':')[0]})\n")
    print(f"{'operation':<42} {'median ms':>10} {'p95 ms':>8} {'SQL':>5} {'vs peer':>8}")
    for r in results + [big]:
        ratio = (
            f"{peer.median_ms / r.median_ms:6.1f}x"
            if r is not peer and r.name.startswith(("store list", "API GET /runs?"))
            else ""
        )
        print(f"{r.name:<42} {r.median_ms:>10.2f} {r.p95_ms:>8.2f} {r.statements:>5} {ratio:>8}")
    list_counts = {r.statements for r in results + [big] if r.name.startswith("store list")}
    print(f"\nstatements per list page: {sorted(list_counts)} (independent of page and table size: no N+1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
