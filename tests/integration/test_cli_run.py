"""`pipeyard run` and friends as a user runs them: a subprocess with its own
PIPEYARD_HOME, on pipelines compiled here with the real kfp compiler."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl, kubernetes
from tests.support.pipeline_runs import (
    REPO,
    cli_json,
    compile_pipeline,
    max_overlap,
    read_intervals,
    run_cli,
)

VENV_PYTHON = REPO / ".venv" / "bin" / "python"


@dsl.component
def describe(s: str, i: int, f: float, b: bool, lst: list, st: dict) -> str:
    import json

    return json.dumps({"values": [s, i, f, b, lst, st],
                       "types": [type(v).__name__ for v in (s, i, f, b, lst, st)]})


@dsl.pipeline(name="cli-typed")
def typed(s: str, i: int, f: float, b: bool, lst: list, st: dict = {"d": 1}) -> str:  # noqa: B006
    return describe(s=s, i=i, f=f, b=b, lst=lst, st=st).output


@dsl.component
def shout(word: str, fail: bool) -> str:
    print(f"shouting {word}")
    if fail and word == "b":
        print("about to fail")
        raise ValueError(f"cannot shout {word}")
    return word.upper()


@dsl.component
def keep(text: str, out: dsl.Output[dsl.Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(text)
    out.metadata["length"] = len(text)


@dsl.pipeline(name="cli-mixed")
def mixed(fail: bool = False) -> dsl.Dataset:
    with dsl.ParallelFor(["a", "b"]) as w:
        shout(word=w, fail=fail).set_retry(num_retries=1, backoff_duration="0s")
    return keep(text="kept").outputs["out"]


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("specs")
    return {"typed": compile_pipeline(typed, d / "typed.yaml"), "mixed": compile_pipeline(mixed, d / "mixed.yaml")}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-home")


@pytest.fixture(scope="module")
def mixed_ok(specs: dict[str, Path], home: Path) -> tuple[int, dict[str, Any]]:
    return cli_json(home, "run", str(specs["mixed"]))


@pytest.fixture(scope="module")
def mixed_failed(specs: dict[str, Path], home: Path) -> tuple[int, dict[str, Any]]:
    return cli_json(home, "run", str(specs["mixed"]), "--arg", "fail=true", "--no-cache")


# ---------------------------------------------------------------- arguments


def test_arguments_are_parsed_and_converted_to_declared_types(specs: dict[str, Path], home: Path) -> None:
    code, doc = cli_json(home, "run", str(specs["typed"]), "--arg", "s=123", "--arg", "i=5", "--arg", "f=2",
                         "--arg", "b=true", "--arg", 'lst=[1, "x", 2.5]', "--arg", 'st={"k": [1, null]}')
    assert code == 0, doc
    got = json.loads(doc["outputs"]["Output"])
    assert got["values"] == ["123", 5, 2.0, True, [1, "x", 2.5], {"k": [1, None]}]
    assert got["types"] == ["str", "int", "float", "bool", "list", "dict"]


GOOD = {"s": "a", "i": "1", "f": "1", "b": "true", "lst": "[]"}
BAD_ARGUMENTS = [  # (overrides of GOOD, None = left out; the parameter the message must name)
    ({"s": None}, "s"),  # missing
    ({"nope": "1"}, "nope"),  # unknown
    ({"i": "abc"}, "i"),  # wrong type
    ({"lst": "5"}, "lst"),
]


def test_bad_arguments_exit_2_naming_the_parameter_and_run_nothing(specs: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    """The full matrix of conversions is in tests/unit/cli; here the CLI's behaviour."""
    home = tmp_path / "home"
    for overrides, name in BAD_ARGUMENTS:
        values = {k: v for k, v in {**GOOD, **overrides}.items() if v is not None}  # type: ignore[dict-item]
        args = [a for k, v in values.items() for a in ("--arg", f"{k}={v}")]
        proc = run_cli(home, "run", str(specs["typed"]), *args)
        assert proc.returncode == 2, (overrides, proc.stdout + proc.stderr)
        assert f"'{name}'" in proc.stderr or f"{name}:" in proc.stderr, (overrides, proc.stderr)
        assert "Traceback" not in proc.stderr
    listed = run_cli(home, "runs", "list", "--json")
    assert json.loads(listed.stdout or "[]") == []


def test_missing_file_and_broken_spec_exit_2(tmp_path: Path) -> None:
    assert run_cli(tmp_path / "h", "run", str(tmp_path / "absent.yaml")).returncode == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("pipelineInfo: {name: x}\nroot: {dag: {tasks: {t: {componentRef: {name: nope}}}}}\n")
    proc = run_cli(tmp_path / "h", "run", str(broken))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- --json, exit codes, summaries


def test_json_shape_of_a_successful_run(mixed_ok: tuple[int, dict[str, Any]]) -> None:
    code, doc = mixed_ok
    assert code == 0
    assert set(doc) >= {"run_id", "state", "outputs", "tasks"}
    assert doc["state"] == "SUCCEEDED"
    out = doc["outputs"]["Output"]
    assert set(out) == {"uri", "metadata"} and out["metadata"] == {"length": 4}
    assert Path(out["uri"]).read_text() == "kept"
    for t in doc["tasks"]:
        assert {"name", "state", "attempts", "cached", "outputs"} <= set(t)
        assert isinstance(t["attempts"], int) and isinstance(t["cached"], bool)
    shouts = sorted((t["index"], t["outputs"]["Output"]) for t in doc["tasks"] if t["name"] == "shout")
    assert shouts == [(0, "A"), (1, "B")]
    keep_task = next(t for t in doc["tasks"] if t["name"] == "keep")
    assert keep_task["outputs"]["out"]["metadata"] == {"length": 4}
    assert keep_task["state"] == "SUCCEEDED" and keep_task["attempts"] == 1


def test_failed_run_exits_1_with_the_error(mixed_failed: tuple[int, dict[str, Any]]) -> None:
    code, doc = mixed_failed
    assert code == 1
    assert doc["state"] == "FAILED"
    assert "cannot shout b" in doc["error"]
    states = {t["index"]: (t["state"], t["attempts"]) for t in doc["tasks"] if t["name"] == "shout"}
    assert states == {0: ("SUCCEEDED", 1), 1: ("FAILED", 2)}
    assert next(t for t in doc["tasks"] if t["name"] == "keep")["state"] == "SUCCEEDED"


def test_human_summary_of_a_failure_has_error_and_log_tail(specs: dict[str, Path], home: Path) -> None:
    proc = run_cli(home, "run", str(specs["mixed"]), "--arg", "fail=true", "--no-cache")
    assert proc.returncode == 1
    assert "FAILED" in proc.stdout
    assert "cannot shout b" in proc.stdout and "about to fail" in proc.stdout
    assert "pipeyard logs" in proc.stdout


def test_runs_list_and_show(home: Path, mixed_ok: tuple[int, dict[str, Any]],
                            mixed_failed: tuple[int, dict[str, Any]]) -> None:
    listed = json.loads(run_cli(home, "runs", "list", "--json").stdout)
    by_id = {r["run_id"]: r["state"] for r in listed}
    assert by_id[mixed_ok[1]["run_id"]] == "SUCCEEDED"
    assert by_id[mixed_failed[1]["run_id"]] == "FAILED"
    human = run_cli(home, "runs", "list")
    assert human.returncode == 0 and mixed_ok[1]["run_id"] in human.stdout
    shown = json.loads(run_cli(home, "runs", "show", mixed_ok[1]["run_id"], "--json").stdout)
    assert shown["state"] == "SUCCEEDED"
    assert shown["outputs"] == mixed_ok[1]["outputs"]
    assert sorted(t["path"] for t in shown["tasks"]) == sorted(t["path"] for t in mixed_ok[1]["tasks"])
    text = run_cli(home, "runs", "show", mixed_failed[1]["run_id"])
    assert text.returncode == 0
    assert "FAILED" in text.stdout and "cannot shout b" in text.stdout
    missing = run_cli(home, "runs", "show", "no-such-run")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


def test_logs_of_a_task_and_of_loop_iterations(home: Path, mixed_failed: tuple[int, dict[str, Any]]) -> None:
    run_id = mixed_failed[1]["run_id"]
    keep_log = run_cli(home, "logs", run_id, "keep")
    assert keep_log.returncode == 0
    both = run_cli(home, "logs", run_id, "shout")
    assert both.returncode == 0
    assert "shouting a" in both.stdout and "shouting b" in both.stdout
    assert "ValueError: cannot shout b" in both.stdout
    failing = next(t for t in mixed_failed[1]["tasks"] if t["name"] == "shout" and t["index"] == 1)
    one = run_cli(home, "logs", run_id, failing["path"])
    assert "shouting a" not in one.stdout
    assert one.stdout.count("shouting b") == 2  # both attempts, each under its own header
    assert "(attempt 1, FAILED)" in one.stdout and "(attempt 2, FAILED)" in one.stdout
    second = run_cli(home, "logs", run_id, failing["path"], "--attempt", "2")
    assert second.stdout.count("shouting b") == 1 and "ValueError: cannot shout b" in second.stdout
    assert run_cli(home, "logs", run_id, "no-such-task").returncode != 0


# ---------------------------------------------------------------- caching across processes


@dsl.component
def tick(counter: str) -> str:
    with open(counter, "a") as f:
        f.write("x")
    return "ticked"


@dsl.pipeline(name="cli-cache")
def cache_pipeline(counter: str) -> str:
    return tick(counter=counter).output


def test_cache_hits_across_processes_and_no_cache(tmp_path: Path) -> None:
    spec = compile_pipeline(cache_pipeline, tmp_path / "cache.yaml")
    home, counter = tmp_path / "home", tmp_path / "counter"
    arg = f"counter={counter}"
    first = cli_json(home, "run", str(spec), "--arg", arg)[1]
    second = cli_json(home, "run", str(spec), "--arg", arg)[1]
    third = cli_json(home, "run", str(spec), "--arg", arg, "--no-cache")[1]
    assert [d["tasks"][0]["cached"] for d in (first, second, third)] == [False, True, False]
    assert counter.read_text() == "xx"
    assert second["outputs"]["Output"] == "ticked"
    shown = json.loads(run_cli(home, "runs", "show", second["run_id"], "--json").stdout)
    assert shown["tasks"][0]["cached"] is True


# ---------------------------------------------------------------- file formats


def test_zip_and_tar_gz_archives(specs: dict[str, Path], tmp_path: Path) -> None:
    z = tmp_path / "p.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(specs["mixed"], "pipeline.yaml")
    t = tmp_path / "p.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        tf.add(specs["mixed"], "pipeline.yaml")
    for archive in (z, t):
        code, doc = cli_json(tmp_path / "home", "run", str(archive), "--no-cache")
        assert code == 0, doc
        assert doc["state"] == "SUCCEEDED"
        assert sorted(x["outputs"]["Output"] for x in doc["tasks"] if x["name"] == "shout") == ["A", "B"]


@dsl.pipeline(name="cli-platform")
def with_platform() -> str:
    task = shout(word="k", fail=False)
    kubernetes.add_node_selector(task, label_key="accelerator", label_value="none")
    return task.output


def test_yaml_with_a_second_platform_spec_document(tmp_path: Path) -> None:
    spec = compile_pipeline(with_platform, tmp_path / "platform.yaml")
    text = spec.read_text()
    assert "\n---\n" in text and "platforms:" in text
    code, doc = cli_json(tmp_path / "home", "run", str(spec))
    assert code == 0, doc
    assert doc["outputs"]["Output"] == "K"


PY_PIPELINES = '''
from kfp import dsl


@dsl.component
def hello(name: str) -> str:
    return "hello " + name


@dsl.pipeline(name="first")
def first(name: str = "one") -> str:
    return hello(name=name).output


@dsl.pipeline(name="second")
def second(name: str = "two") -> str:
    return hello(name=name).output
'''


def test_python_file_with_several_pipelines(tmp_path: Path) -> None:
    source = tmp_path / "pipelines.py"
    source.write_text(PY_PIPELINES)
    ambiguous = run_cli(tmp_path / "home", "run", str(source))
    assert ambiguous.returncode == 2
    assert "first" in ambiguous.stderr and "second" in ambiguous.stderr
    code, doc = cli_json(tmp_path / "home", "run", str(source), "--pipeline", "second")
    assert code == 0, doc
    assert doc["outputs"]["Output"] == "hello two"


# ---------------------------------------------------------------- the user's environment


def _environment() -> tuple[str, str]:
    version = subprocess.run([str(VENV_PYTHON), "-c", "import importlib.metadata as m; print(m.version('kfp'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The editable pipeyard line names the checkout's commit, which others move.
    freeze = subprocess.run([str(VENV_PYTHON), "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    return version, freeze


@dsl.component
def which_kfp() -> str:
    import importlib.metadata

    return importlib.metadata.version("kfp")


@dsl.pipeline(name="old-sdk")
def old_sdk() -> str:
    return which_kfp().output


def test_a_yaml_from_an_older_kfp_leaves_the_environment_alone(tmp_path: Path) -> None:
    spec = compile_pipeline(old_sdk, tmp_path / "old.yaml")
    before_version, before_freeze = _environment()
    pin = f"kfp=={before_version}"
    text = spec.read_text()
    assert pin in text
    old = tmp_path / "old-2.7.yaml"
    old.write_text(text.replace(pin, "kfp==2.7.0"))
    code, doc = cli_json(tmp_path / "home", "run", str(old))
    assert code == 0, doc
    # The task ran with the installed kfp, not the one the YAML pins.
    assert doc["outputs"]["Output"] == before_version
    after_version, after_freeze = _environment()
    assert after_version == before_version
    assert after_freeze == before_freeze
    log = run_cli(tmp_path / "home", "logs", doc["run_id"], "which-kfp").stdout
    assert "pip install" not in log and "Collecting kfp" not in log


# ---------------------------------------------------------------- 100 iterations


@dsl.component
def probe(directory: str, key: int) -> int:
    import json
    import os
    import time

    start = time.time()
    open(os.path.join(directory, f"{key}.start"), "w").close()
    # Rendezvous with one other iteration (bounded): proves two ran at once.
    deadline = start + 60
    while time.time() < deadline:
        if sum(1 for f in os.listdir(directory) if f.endswith(".start")) >= 2:
            break
        time.sleep(0.005)
    with open(os.path.join(directory, f"{key}.json"), "w") as f:
        json.dump({"start": start, "end": time.time()}, f)
    return key


@dsl.pipeline(name="hundred")
def hundred(directory: str) -> None:
    with dsl.ParallelFor(list(range(100))) as k:
        probe(directory=directory, key=k)


def test_loop_of_100_items_with_parallelism_2(tmp_path: Path) -> None:
    spec = compile_pipeline(hundred, tmp_path / "hundred.yaml")
    probes = tmp_path / "probes"
    probes.mkdir()
    code, doc = cli_json(tmp_path / "home", "run", str(spec), "--arg", f"directory={probes}",
                         "--parallelism", "2")
    assert code == 0, doc.get("error")
    assert doc["state"] == "SUCCEEDED"
    iterations = [t for t in doc["tasks"] if t["name"] == "probe"]
    assert len(iterations) == 100
    assert sorted(t["index"] for t in iterations) == list(range(100))
    assert sorted(t["outputs"]["Output"] for t in iterations) == list(range(100))
    assert all(t["state"] == "SUCCEEDED" for t in iterations)
    intervals = read_intervals(probes)
    assert len(intervals) == 100
    assert max_overlap(intervals) == 2
