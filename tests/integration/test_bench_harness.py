"""The benchmark harness's smoke mode: benchmarks/peers.py and benchmarks/load.py really run
pipeyard and report what they measured (the peers' venvs are not installed here)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"


def test_peers_quick_reports_pipeyard_rows_and_table(tmp_path: Path) -> None:
    output = tmp_path / "peers.json"
    completed = subprocess.run(
        [
            str(PYTHON),
            "benchmarks/peers.py",
            "--quick",
            "--engines",
            "pipeyard",
            "--workloads",
            "single,chain-3",
            "--no-goals",
            "--output",
            str(output),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(output.read_text())
    rows = {row["workload"]: row for row in report["rows"]}
    assert set(rows) == {"single", "chain-3"}
    for row in rows.values():
        result = row["results"]["pipeyard"]
        assert result["error"] is None
        assert result["median"] > 0 and len(result["seconds"]) == 1
        assert result["peak_rss_mb"][0] > 10
    assert "chain-3" in completed.stdout and "pipeyard s" in completed.stdout
    # --render prints what the README pastes: the command that made it, then a Markdown table.
    rendered = subprocess.run(
        [str(PYTHON), "benchmarks/peers.py", "--render", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    lines = rendered.stdout.splitlines()
    assert lines[0].startswith("Command: `.venv/bin/python benchmarks/peers.py --quick --engines pipeyard")
    assert "| workload | tasks | pipeyard s |" in lines
    chain_row = next(line for line in lines if line.startswith("| chain-3 | 3 | "))
    assert float(chain_row.split("|")[3]) == round(rows["chain-3"]["results"]["pipeyard"]["median"], 2)


def test_peers_rejects_an_unknown_engine() -> None:
    completed = subprocess.run(
        [str(PYTHON), "benchmarks/peers.py", "--engines", "airflow"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "airflow" in completed.stderr


def test_load_submits_runs_through_kfp_client_and_reports_latency() -> None:
    completed = subprocess.run(
        [str(PYTHON), "benchmarks/load.py", "--runs", "3", "--timeout", "300"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["runs"] == 3 and result["succeeded"] == 3
    assert result["list_samples"] >= 1 and result["list_p95_ms"] > 0
    assert result["server_peak_rss_mb"] > 10
