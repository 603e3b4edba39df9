"""Inputs that would take the server down are refused while being read, before expanding."""

from __future__ import annotations

import io
import json
import tarfile
import time
import zipfile
from typing import Any

import pytest
import yaml

from pipeyard.errors import SpecError
from pipeyard.ir import limits, structure
from pipeyard.ir.loader import load_pipeline_bytes


def _echo_executor() -> dict[str, Any]:
    return {"container": {"image": "alpine", "command": ["echo", "hi"]}}


def _spec(components: dict[str, Any], root_tasks: dict[str, Any]) -> dict[str, Any]:
    return {
        "pipelineInfo": {"name": "p"},
        "schemaVersion": "2.1.0",
        "components": {"comp-echo": {"executorLabel": "exec-echo"}, **components},
        "deploymentSpec": {"executors": {"exec-echo": _echo_executor()}},
        "root": {"dag": {"tasks": root_tasks}},
    }


def _task(component: str, *after: str) -> dict[str, Any]:
    t: dict[str, Any] = {"componentRef": {"name": component}, "taskInfo": {"name": component}}
    if after:
        t["dependentTasks"] = list(after)
    return t


def _load(d: dict[str, Any]) -> Any:
    return load_pipeline_bytes(json.dumps(d).encode(), "p.json")


def test_a_component_that_contains_itself_is_refused() -> None:
    d = _spec({"comp-loop": {"dag": {"tasks": {"again": _task("comp-loop"), "e": _task("comp-echo")}}}}, {"x": _task("comp-loop")})
    with pytest.raises(SpecError, match=r"DAG contains itself: comp-loop -> comp-loop") as e:
        _load(d)
    assert "comp-loop" in str(e.value.where)


def test_recursion_through_other_components_is_refused() -> None:
    d = _spec(
        {
            "comp-a": {"dag": {"tasks": {"b": _task("comp-b")}}},
            "comp-b": {"dag": {"tasks": {"c": _task("comp-c")}}},
            "comp-c": {"dag": {"tasks": {"a": _task("comp-a"), "e": _task("comp-echo")}}},
        },
        {"top": _task("comp-a")},
    )
    with pytest.raises(SpecError, match=r"contains itself: comp-\w -> comp-\w -> comp-\w -> comp-\w"):
        _load(d)


def test_cyclic_dependencies_in_a_dag_are_refused() -> None:
    d = _spec({}, {"a": _task("comp-echo", "c"), "b": _task("comp-echo", "a"), "c": _task("comp-echo", "b")})
    with pytest.raises(SpecError, match=r"cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)"):
        _load(d)


def test_a_task_depending_on_itself_is_a_cycle() -> None:
    with pytest.raises(SpecError, match=r"cycle: a -> a"):
        _load(_spec({}, {"a": _task("comp-echo", "a")}))


def test_deep_nesting_is_bounded() -> None:
    depth = structure.MAX_NESTING_DEPTH + 5
    comps = {f"comp-d{i}": {"dag": {"tasks": {"next": _task(f"comp-d{i + 1}")}}} for i in range(depth)}
    comps[f"comp-d{depth}"] = {"dag": {"tasks": {"e": _task("comp-echo")}}}
    with pytest.raises(SpecError, match=rf"nested {depth + 1} deep; at most {structure.MAX_NESTING_DEPTH}"):
        _load(_spec(comps, {"top": _task("comp-d0")}))


def test_exponential_static_expansion_is_bounded() -> None:
    # Each level uses the one below four times: 4**10 tasks from 10 small components.
    comps = {
        f"comp-l{i}": {"dag": {"tasks": {f"t{j}": _task(f"comp-l{i + 1}") for j in range(4)}}} for i in range(10)
    }
    comps["comp-l10"] = {"dag": {"tasks": {"e": _task("comp-echo")}}}
    with pytest.raises(SpecError, match=rf"expands to \d+ tasks before any loop; at most {structure.MAX_STATIC_TASKS}"):
        _load(_spec(comps, {"top": _task("comp-l0")}))


def test_an_ordinary_nested_pipeline_still_loads() -> None:
    d = _spec({"comp-inner": {"dag": {"tasks": {"e": _task("comp-echo")}}}}, {"a": _task("comp-inner"), "b": _task("comp-inner", "a")})
    assert set(_load(d).spec.root.dag.tasks) == {"a", "b"}


ALIAS_BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    assert len(ALIAS_BOMB) < 700
    started = time.monotonic()
    with pytest.raises(SpecError, match=r"aliases expand to more than \d+ nodes") as e:
        load_pipeline_bytes(ALIAS_BOMB.encode(), "bomb.yaml")
    assert e.value.where == "bomb.yaml"
    # A guard against a hang, not a performance assertion: expanding would take minutes.
    assert time.monotonic() - started < 60


def test_a_few_aliases_are_fine() -> None:
    text = "x: &x [1, 2]\ny: *x\nz: *x\n"
    assert limits.load_yaml_documents(text) == [{"x": [1, 2], "y": [1, 2], "z": [1, 2]}]


def test_deeply_nested_documents_are_a_spec_error() -> None:
    with pytest.raises(SpecError, match="nested too deeply"):
        load_pipeline_bytes(b"[" * 100_000 + b"]" * 100_000, "deep.json")
    with pytest.raises(SpecError, match="nested too deeply"):
        load_pipeline_bytes(b"[" * 100_000 + b"]" * 100_000, "deep.yaml")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_bomb_is_refused_at_the_size_bound() -> None:
    huge = b"a: " + b"x" * (limits.MAX_SPEC_BYTES + 10)
    data = _zip({"pipeline.yaml": huge})
    assert len(data) < 200_000
    with pytest.raises(SpecError, match=r"larger than 32 MB uncompressed") as e:
        load_pipeline_bytes(data, "bomb.zip")
    assert e.value.where == "bomb.zip"


def test_zip_with_too_many_members_is_refused() -> None:
    data = _zip({f"f{i}.txt": b"" for i in range(limits.MAX_ARCHIVE_MEMBERS + 1)})
    with pytest.raises(SpecError, match=rf"at most {limits.MAX_ARCHIVE_MEMBERS}"):
        load_pipeline_bytes(data, "many.zip")


def test_tar_gz_bomb_is_refused_at_the_size_bound() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        payload = b"x" * (limits.MAX_SPEC_BYTES + 10)
        info = tarfile.TarInfo("pipeline.yaml")
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    with pytest.raises(SpecError, match="larger than 32 MB"):
        load_pipeline_bytes(buf.getvalue(), "bomb.tar.gz")


def test_tar_with_too_many_members_is_refused() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(limits.MAX_ARCHIVE_MEMBERS + 1):
            tf.addfile(tarfile.TarInfo(f"f{i}.txt"), io.BytesIO(b""))
    with pytest.raises(SpecError, match=f"more than {limits.MAX_ARCHIVE_MEMBERS} entries"):
        load_pipeline_bytes(buf.getvalue(), "many.tgz")


def test_a_normal_archive_still_loads() -> None:
    d = _spec({}, {"a": _task("comp-echo")})
    assert load_pipeline_bytes(_zip({"p.yaml": yaml.safe_dump(d).encode()}), "p.zip").spec.pipeline_info.name == "p"


@pytest.mark.parametrize("loader", ["_BoundedSafeLoader", "_BoundedFastLoader"])
def test_both_yaml_loaders_keep_the_alias_budget_and_agree(loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(limits, loader):
        pytest.fail(f"{loader} is missing: PyYAML was installed without libyaml")
    monkeypatch.setattr(limits, "_loader", getattr(limits, loader))
    with pytest.raises(SpecError, match=r"aliases expand to more than \d+ nodes"):
        limits.load_yaml_documents(ALIAS_BOMB)
    text = "x: &x [1, 2.5, {k: true}]\ny: *x\n---\n- null\n- '007'\n"
    assert limits.load_yaml_documents(text) == list(yaml.safe_load_all(text))
    with pytest.raises(SpecError, match="nested too deeply"):
        limits.load_yaml_documents("[" * 100_000 + "]" * 100_000)
