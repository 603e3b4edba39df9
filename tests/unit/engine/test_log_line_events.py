"""Task output lines become events only for a sink that wants them: without one the
launcher gets no ``on_output`` and only copies the output to the log file."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
import io
from pathlib import Path
from typing import Any

from kfp import dsl
from rich.console import Console
from tests.support.fake_launcher import FakeLauncher
from tests.support.fake_runs import FakeEngine

from pipeyard.cli.progress import Progress
from pipeyard.engine.run_events import EventSink, discard, wants_log_lines
from pipeyard.engine.runner import execute_run


@dsl.component
def echo(word: str) -> str:
    return word


@dsl.pipeline(name="echo")
def one_step(word: str = "hi") -> str:
    return echo(word=word).output


def _on_output_given(tmp_path: Path, sink: EventSink) -> bool:
    engine = FakeEngine(tmp_path, FakeLauncher({"echo": lambda c: c.succeed({"Output": c.parameters["word"]})}))
    run = engine.new_run(one_step)
    final = asyncio.run(execute_run(run.run_id, recorder=engine.recorder, launcher=engine.launcher,
                                    settings=engine.settings, on_event=sink))
    assert final.state == "SUCCEEDED", final.error
    (call,) = engine.launcher.calls
    return call.request.on_output is not None


def test_a_sink_that_ignores_log_lines_gets_none_and_the_launcher_no_callback(tmp_path: Path) -> None:
    quiet = Progress(Console(file=io.StringIO()), verbose=False)
    assert not wants_log_lines(discard)
    assert not wants_log_lines(quiet)
    assert not _on_output_given(tmp_path / "discard", discard)
    assert not _on_output_given(tmp_path / "quiet", quiet)


def test_other_sinks_get_every_line(tmp_path: Path) -> None:
    events: list[Any] = []
    verbose = Progress(Console(file=io.StringIO()), verbose=True)
    assert wants_log_lines(events.append)
    assert wants_log_lines(verbose)
    assert _on_output_given(tmp_path / "list", events.append)
    assert _on_output_given(tmp_path / "verbose", verbose)
