"""Reading YAML from libyaml's events gives exactly what ``yaml.safe_load_all`` gives.

The fast path (ir/limits.py ``_plain_documents``) builds values from the parser's events;
anything beyond plain YAML (anchors, aliases, merge keys, explicit tags) is read by the
full loader. Either way the result must equal PyYAML's own safe loader.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeyard.ir import limits

pytestmark = pytest.mark.skipif(limits._CParser is None, reason="needs PyYAML built with libyaml")

SHARED = Path(os.environ.get("PIPEYARD_SHARED_DIR", Path(__file__).resolve().parents[4] / "shared"))
REPO = Path(__file__).resolve().parents[3]

PLAIN = [
    "a: 1\nb: 0x1f\nc: 1_000\nd: 0o17\ne: 017\nf: 1:20\n",
    "a: 1.5\nb: .inf\nc: -.Inf\nd: 1e3\ne: 6.8523015e+5\nf: 190:20:30.15\n",
    "yes: no\non: off\nt: true\nF: False\nn: ~\nnull: null\nempty:\n",
    "when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\n",
    "s: 'quoted 1'\nd: \"2\"\nplain: hello world\nblock: |\n  line 1\n  line 2\nfolded: >\n  a\n  b\n",
    "list: [1, two, {three: 3}, [4]]\nmap: {a: [], b: {}}\n",
    "- 1\n- - nested\n  - list\n- key: value\n  other: [x]\n",
    "--- 1\n--- two\n---\n...\n--- [3]\n",
    "# only a comment\n",
    "",
    "dup: 1\ndup: 2\n",
    "? complex\n: value\n",
    "bin: !!binary aGVsbG8=\n",
    "tagged: !!str 123\nint: !!int '7'\n",
    "base: &b {x: 1}\nuse: *b\nmerged:\n  <<: *b\n  y: 2\n",
    "s: !!set {a, b}\n",
    "v: =\n",
    "\"quoted key\": 1\n'other': [\"a\", 'b']\n",
]


def _outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", read()
    except yaml.YAMLError as e:
        return type(e).__name__, str(e)


@pytest.mark.parametrize("text", PLAIN)
def test_same_values_as_safe_load_all(text: str) -> None:
    # Values, or the same error as libyaml's safe loader ("v: =" has no safe constructor).
    assert _outcome(lambda: limits.load_yaml_documents(text)) == _outcome(lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)))


def test_plain_documents_are_read_from_events() -> None:
    # The fast path itself, not the fallback, read this one.
    assert limits._plain_documents("a: [1, {b: null}]\n--- x\n") == [{"a": [1, {"b": None}]}, "x"]


@pytest.mark.parametrize("text", ["a: &x 1\n", "a: *x\n", "<<: {a: 1}\n", "a: !!str 1\n", "? [1, 2]\n: v\n"])
def test_beyond_plain_yaml_goes_to_the_full_loader(text: str) -> None:
    with pytest.raises(limits._NotPlain):
        limits._plain_documents(text)


def test_unhashable_key_is_the_full_loaders_error() -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="unhashable"):
        limits.load_yaml_documents("? [1, 2]\n: v\n")


def test_parse_errors_are_pyyamls() -> None:
    with pytest.raises(yaml.YAMLError) as fast:
        limits.load_yaml_documents("a: [1, 2\nb: 3\n")
    with pytest.raises(yaml.YAMLError) as slow:
        list(yaml.load_all("a: [1, 2\nb: 3\n", Loader=yaml.CSafeLoader))
    assert str(fast.value) == str(slow.value)


def _compiled_files() -> list[Path]:
    found = sorted((SHARED / "conformance" / "pipelines").glob("**/*.yaml"))
    found += sorted((REPO / "tests").glob("**/*.yaml"))
    return found


def test_every_compiled_pipeline_here_reads_the_same() -> None:
    files = _compiled_files()
    assert len(files) > 20, f"expected the conformance pipelines under {SHARED}"
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            expected = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        except yaml.YAMLError:
            continue  # deliberately broken inputs: test_parse_errors_are_pyyamls covers errors
        assert limits.load_yaml_documents(text) == expected, path
