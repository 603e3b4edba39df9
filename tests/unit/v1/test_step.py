"""The v1 step wrapper does what Argo does around a container, and reports v1 visuals."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeyard.v1 import step
from pipeyard.v1.visuals import metrics_metadata, ui_metadata


def test_raw_inputs_moved_outputs_and_copies(tmp_path: Path, monkeypatch: object) -> None:
    import os

    os.chdir(tmp_path)
    fixed_out = tmp_path / "fixed" / "out.txt"
    spec = {
        "raw": [["raw/in.txt", "raw data"]],
        "after": [[str(fixed_out), str(tmp_path / "engine" / "out")]],
        "copy": [[str(tmp_path / "engine" / "out"), str(tmp_path / "engine" / "twin")]],
    }
    program = ("import os; os.makedirs('fixed', exist_ok=True); "
               "open('fixed/out.txt', 'w').write(open('raw/in.txt').read().upper())")
    assert step.main([json.dumps(spec), "--", sys.executable, "-c", program]) == 0
    assert (tmp_path / "engine" / "out").read_text() == "RAW DATA"
    assert (tmp_path / "engine" / "twin").read_text() == "RAW DATA"


def test_a_failing_command_keeps_its_exit_code_and_copies_nothing(tmp_path: Path) -> None:
    target = tmp_path / "target"
    spec = {"after": [[str(tmp_path / "src"), str(target)]]}
    (tmp_path / "src").write_text("x")
    assert step.main([json.dumps(spec), "--", sys.executable, "-c", "raise SystemExit(7)"]) == 7
    assert not target.exists()


def test_visual_outputs_are_reported_as_artifact_metadata(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"metrics": [{"name": "auc", "numberValue": 0.5}, {"name": "bad"}]}))
    source = tmp_path / "table.csv"
    source.write_text("a,1\nb,2\n")
    ui = tmp_path / "ui.json"
    ui.write_text(json.dumps({"outputs": [{"type": "table", "source": str(source), "header": ["k", "v"]},
                                          {"type": "web-app", "storage": "inline", "source": "<p>x</p>"}]}))
    output_file = tmp_path / "exec" / "executor_output.json"
    spec = {"visual": [["mlpipeline-metrics", str(metrics), "uri-m", "mlpipeline-metrics"],
                       ["mlpipeline-ui-metadata", str(ui), "uri-u", "mlpipeline-ui-metadata"]],
            "output_file": str(output_file)}
    assert step.main([json.dumps(spec), "--", sys.executable, "-c", "pass"]) == 0
    reported = json.loads(output_file.read_text())["artifacts"]
    assert reported["mlpipeline-metrics"]["artifacts"][0]["metadata"] == {"auc": 0.5, "bad": 0.0}
    outputs = reported["mlpipeline-ui-metadata"]["artifacts"][0]["metadata"]["v1_ui_metadata"]
    assert outputs[0]["content"] == "a,1\nb,2\n"
    assert "content" not in outputs[1] and outputs[1]["source"] == "<p>x</p>"


def test_metrics_that_are_not_numbers_are_left_out() -> None:
    assert metrics_metadata({"metrics": [{"name": "x", "numberValue": "nope"}, {"name": "y", "numberValue": 2}]}) == {"y": 2.0}
    assert ui_metadata({"outputs": [{"type": "tensorboard", "source": "gs://b"}]})["v1_ui_metadata"][0]["note"]
