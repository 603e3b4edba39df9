"""The safety decision of the warm fork server: which recorded module lists it may import."""

from __future__ import annotations

import json
from pathlib import Path

from pipeyard.launchers.preload import Record, Records, plan


def test_installed_modules_are_planned_in_order() -> None:
    record = Record((("sklearn.linear_model", "site"), ("numpy", "site"), ("decimal", "stdlib")))
    assert plan(record) == ("decimal", "numpy", "sklearn.linear_model")


def test_a_tasks_own_modules_are_never_preloaded() -> None:
    # The same name may be another file for another task (its own directory on sys.path).
    record = Record((("numpy", "site"), ("helpers", "other"), ("ephemeral_component", "other")))
    assert plan(record) == ("numpy",)


def test_packages_known_to_be_fork_unsafe_refuse_the_whole_list() -> None:
    assert plan(Record((("numpy", "site"), ("torch.nn", "site")))) is None
    assert plan(Record((("numpy", "site"), ("grpc", "site")))) is None


def test_a_list_found_unsafe_once_is_never_used_again() -> None:
    assert plan(Record((("numpy", "site"),), unsafe="importing 1 modules left 3 threads running")) is None


def test_nothing_beyond_the_standard_library_is_not_worth_a_server() -> None:
    assert plan(Record((("decimal", "stdlib"), ("csv", "stdlib")))) is None
    assert plan(Record(())) is None
    assert plan(None) is None


def test_records_merge_what_children_report(tmp_path: Path) -> None:
    records = Records(tmp_path)
    path = records.path("/usr/bin/python3", "def f(): ...")
    path.parent.mkdir(parents=True)
    report = tmp_path / "r1"
    report.write_text(json.dumps([["numpy", "site"], ["decimal", "stdlib"]]))
    records.merge_child_report(path, report, keep_previous=False)
    assert not report.exists()
    assert plan(records.read(path)) == ("decimal", "numpy")
    # A warm child lists only what the warm server lacked: the previous list stays.
    report.write_text(json.dumps([["scipy", "site"]]))
    records.merge_child_report(path, report, keep_previous=True)
    assert plan(records.read(path)) == ("decimal", "numpy", "scipy")
    records.mark_unsafe([path], "threads")
    assert plan(records.read(path)) is None
    report.write_text(json.dumps([["pandas", "site"]]))
    records.merge_child_report(path, report, keep_previous=True)
    assert records.read(path) == Record((("decimal", "stdlib"), ("numpy", "site"), ("scipy", "site")), "threads")


def test_a_damaged_record_reads_as_none(tmp_path: Path) -> None:
    records = Records(tmp_path)
    path = tmp_path / "x.json"
    path.write_text("{not json")
    assert records.read(path) is None
    assert records.path("/a/python", "src") != records.path("/b/python", "src")


def test_a_kept_record_is_never_older_than_its_file(tmp_path: Path) -> None:
    mine, other = Records(tmp_path), Records(tmp_path)  # another process's, on the same folder
    path = mine.path("/usr/bin/python3", "def f(): pass")
    assert mine.path("/usr/bin/python3", "def f(): pass") == path
    assert mine.read(path) is None
    mine.write(path, Record((("json", "stdlib"),)))
    assert mine.read(path) == Record((("json", "stdlib"),))
    other.write(path, Record((("numpy", "site"),)))
    assert mine.read(path) == Record((("numpy", "site"),))
    other.mark_unsafe([path], "threads")
    assert mine.read(path) == Record((("numpy", "site"),), "threads")
    path.unlink()
    assert mine.read(path) is None
