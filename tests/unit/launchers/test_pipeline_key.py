"""A pipeline file is remembered under its content: an edit is a new pipeline."""

from __future__ import annotations

from pathlib import Path

from pipeyard.launchers.warm import pipeline_key


def test_the_key_follows_the_content_not_the_name(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("pipelineInfo: {name: x}\n")
    b.write_text("pipelineInfo: {name: x}\n")
    assert pipeline_key(str(a)) == pipeline_key(str(b)) is not None
    b.write_text("pipelineInfo: {name: y}\n")
    assert pipeline_key(str(b)) != pipeline_key(str(a))
    assert pipeline_key(str(tmp_path / "missing.yaml")) is None
