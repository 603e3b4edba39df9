"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

try:  # pytest 9's structured node id (see _mark_group_in_node_id)
    from _pytest.nodeid import NodeId
except ImportError:  # pytest 8: xdist's own hook does it
    NodeId = None  # type: ignore[assignment,misc]

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIPEYARD_SHARED_DIR") or REPO.parent / "shared")
CONFORMANCE_PIPELINES = Path(os.environ.get("PIPEYARD_CONFORMANCE_DIR") or SHARED / "conformance" / "pipelines")

# What starts first under `pytest -n 3 --dist loadgroup`, longest first: xdist's workers
# take work units (an xdist group, or one test) in collection order, and a long unit
# taken late is the run's tail. xdist groups by name, single tests by node id; the times
# are a loaded 2-core CI's.
LONG_FIRST = (
    "ray",  # the multi-node cluster and the Ray launcher: one worker, ~15 min
    "tests/conformance/test_conformance.py::test_conformance[long-running.yaml]",  # sleeps 300 s
    "tests/integration/test_serving.py",  # trains and deploys once (~2 min), then ~15 tests
    "docker",
    "tests/integration/test_v1_client.py:sqlite",  # a kfp 1.8 client run on each backend
    "tests/integration/test_v1_client.py:postgres",
    "tests/integration/test_examples.py",  # the iris run
    "tests/integration/test_package_build.py::test_wheel_from_a_fresh_tree_contains_the_built_ui",
    "tests/conformance/test_conformance.py::test_conformance[log_streaming_compiled.yaml]",
    "tests/integration/test_server_fuzz.py::test_no_server_errors",
    "docker_podman",  # test_docker_launcher.py's Podman variants (both marks: xdist joins them)
)
# Module-scoped fixtures too cheap to keep their tests on one worker (test_examples.py's
# home is shared by 20 tests that each run a pipeline: together they would be one long unit).
CHEAP_MODULE_FIXTURES = frozenset({"pipeyard_env"})


@pytest.fixture(scope="session")
def conformance_pipelines() -> Path:
    """KFP's compiled pipelines (the shared conformance set). The suite needs them:
    missing is a failure that says where they were looked for, never a skip."""
    if not CONFORMANCE_PIPELINES.is_dir():
        pytest.fail(f"the conformance pipelines are missing: {CONFORMANCE_PIPELINES} "
                    "(set PIPEYARD_SHARED_DIR or PIPEYARD_CONFORMANCE_DIR)")
    return CONFORMANCE_PIPELINES


@pytest.fixture
def pipeyard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PIPEYARD_HOME (database, artifacts, logs) for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("PIPEYARD_HOME", str(home))
    monkeypatch.delenv("PIPEYARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("PIPEYARD_PIPELINE_ROOT", raising=False)
    return home


def pytest_configure(config: pytest.Config) -> None:
    # xdist would sort the units by their number of tests instead (its --loadscope-reorder,
    # on by default), which puts every long single test behind all the groups.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def _shared_group(item: pytest.Item) -> str | None:
    """An integration test that uses a module-scoped fixture (a server, a run, a cluster)
    joins its module's group, per parameter of such fixtures (one per database backend):
    one worker builds the fixture once. Scattered over three workers, each built its own."""
    if not item.nodeid.startswith("tests/integration/"):
        return None
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    shared, keys = False, []
    for name in info.names_closure:
        defs = info.name2fixturedefs.get(name)
        if not defs or defs[-1].scope != "module" or name in CHEAP_MODULE_FIXTURES:
            continue
        shared = True
        if name in params:
            keys.append(str(params[name]))
    if not shared:
        return None
    module = item.nodeid.split("::", 1)[0]
    # No "]" or "@" in a group's name: xdist finds the group after the last "@" of the
    # node id, unless a "]" follows it.
    return ":".join([module, *keys])


def _groups(item: pytest.Item) -> list[str]:
    return sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                   for m in item.iter_markers("xdist_group")})


def _unit(item: pytest.Item) -> str:
    return "_".join(_groups(item)) or item.nodeid


def _mark_group_in_node_id(item: pytest.Item) -> None:
    """What xdist's own hook means to do: ``ID@GROUP`` as the id the scheduler sees.
    xdist 3.8 writes it to ``item._nodeid``, which pytest 9 no longer reads (the id is
    ``item._id``), so without this every xdist_group was ignored: the multi-node module's
    tests ran on all three workers, each starting a two-node Ray cluster of its own."""
    if NodeId is None or not isinstance(getattr(item, "_id", None), NodeId) or "@" in item.nodeid:
        return
    if groups := _groups(item):
        item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist (a worker's collection, which the scheduler follows): shared module
    fixtures' groups, then LONG_FIRST's units first, the rest in file order. Without
    xdist nothing changes."""
    if not hasattr(config, "workerinput"):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None and (group := _shared_group(item)):
            item.add_marker(pytest.mark.xdist_group(group))
        if config.getvalue("loadgroup"):
            _mark_group_in_node_id(item)
    rank = {unit: i for i, unit in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(_unit(item), len(rank)))  # stable: a unit stays in order
