"""Bounds on what reading a pipeline file may cost, whoever sent it.

A pipeline file is small: KFP's compiler writes a few hundred kilobytes at most. A file
that expands far beyond its size while being read (a YAML alias bomb, a zip bomb, a
document nested thousands deep) is refused here, before it is expanded, with a message
that says which bound it crossed.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import zipfile
from collections.abc import Callable
from typing import Any

import yaml

from pipeyard.errors import SpecError

# One pipeline file, after decompression (uploads are capped at 32 MB before that).
MAX_SPEC_BYTES = 32 * 1024 * 1024
# Entries an archive may list; KFP's own packages hold one.
MAX_ARCHIVE_MEMBERS = 1000
# Nodes that YAML aliases may add by repeating anchored content. KFP's compiler writes no
# aliases; hand-written files use a few.
MAX_ALIAS_EXPANSION = 100_000


def _libyaml_parser() -> Any:
    try:
        from yaml._yaml import CParser
    except ImportError:
        return None
    return CParser


_CParser = _libyaml_parser()


class _AliasBudget(yaml.composer.Composer):
    """A YAML composer counting what aliases expand to before they are used."""

    # Provided by the parser it is mixed with (PyYAML's or libyaml's).
    check_event: Callable[..., bool]
    peek_event: Callable[[], Any]

    def _init_budget(self) -> None:
        self.expanded = 0
        self.sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                self.expanded += self._size(node)
                if self.expanded > MAX_ALIAS_EXPANSION:
                    raise SpecError(
                        f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes "
                        f"(at line {event.start_mark.line + 1}): refused before expanding them"
                    )
        return super().compose_node(parent, index)

    def _size(self, node: Any) -> int:
        # Memoised by identity: an anchored node may hold aliases of other anchored nodes,
        # and counting them afresh each time is the exponential blow-up being guarded.
        key = id(node)
        known = self.sizes.get(key)
        if known is not None:
            return known
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        else:
            size = 1
        self.sizes[key] = size
        return size


class _BoundedSafeLoader(_AliasBudget, yaml.SafeLoader):
    """PyYAML's (pure Python) safe loader with the alias budget."""

    def __init__(self, stream: Any) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._init_budget()


if _CParser is not None:

    class _BoundedFastLoader(
        _AliasBudget, _CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver  # type: ignore[misc, valid-type]
    ):
        """The same loader over libyaml's scanner and parser (the pure-Python scanner was most
        of a run's start for a large spec); composing stays in Python, where the budget is kept."""

        def __init__(self, stream: Any) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._init_budget()


def _loader(text: str) -> Any:
    return _BoundedSafeLoader(text) if _CParser is None else _BoundedFastLoader(text)


class _NotPlain(Exception):
    """The document uses what only the full loader handles (see ``_plain_documents``)."""


_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "null", "bool", "int", "float", "timestamp", "binary")
)


def _plain_documents(text: str) -> list[Any]:
    """What ``yaml.safe_load_all`` gives, built straight from libyaml's events.

    Composing nodes (even libyaml's) then constructing from them was most of reading a
    large spec: 2.5 s for a 1,000-task compiled pipeline of 1.7 MB, against about 0.6 s
    from the events. KFP's compiler writes plain YAML: no anchors, aliases, merge keys or
    explicit tags. A document with any of them raises ``_NotPlain`` and is read by the
    full loader, which keeps the alias budget. Scalars are resolved and constructed by
    PyYAML's own safe resolver and constructor, so values are the same."""
    parser = _CParser(text)
    resolver = yaml.resolver.Resolver()
    constructor = yaml.constructor.SafeConstructor()
    resolve, constructors = resolver.resolve, constructor.yaml_constructors
    scalar_node = yaml.ScalarNode
    # Each open collection: the container, and for a mapping the key waiting for its value.
    stack: list[list[Any]] = []
    docs: list[Any] = []
    _no_key = object()

    def place(value: Any) -> None:
        if not stack:
            docs.append(value)
            return
        top = stack[-1]
        container = top[0]
        if type(container) is list:
            container.append(value)
        elif top[1] is _no_key:
            if isinstance(value, (dict, list)):
                raise _NotPlain  # an unhashable key: the full loader says so
            top[1] = value
        else:
            container[top[1]] = value
            top[1] = _no_key

    try:
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _NotPlain
                tag = resolve(scalar_node, event.value, event.implicit)
                if tag == _STR_TAG:
                    place(event.value)
                elif tag in _PLAIN_SCALAR_TAGS:
                    place(constructors[tag](constructor, scalar_node(tag, event.value, style=event.style)))
                else:  # merge keys, '=' values
                    raise _NotPlain
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _NotPlain
                stack.append([{}, _no_key] if kind is yaml.MappingStartEvent else [[], None])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                place(stack.pop()[0])
            elif kind is yaml.AliasEvent:
                raise _NotPlain
            elif kind is yaml.StreamEndEvent:
                return docs
    finally:
        parser.dispose()


def load_yaml_documents(text: str) -> list[Any]:
    """``yaml.safe_load_all`` with the alias budget; raises ``yaml.YAMLError`` or ``SpecError``."""
    try:
        if _CParser is not None:
            with contextlib.suppress(_NotPlain):
                return _plain_documents(text)
        return _full_documents(text)
    except RecursionError as e:
        raise SpecError("the YAML document is nested too deeply") from e
    except yaml.YAMLError as e:
        if "maximum nesting depth" in str(e):  # libyaml's own bound, same meaning
            raise SpecError("the YAML document is nested too deeply") from e
        raise


def _full_documents(text: str) -> list[Any]:
    loader = _loader(text)
    try:
        docs = []
        while loader.check_data():
            docs.append(loader.get_data())
        return docs
    finally:
        loader.dispose()


def _read_bounded(read: Callable[[int], bytes], name: str) -> bytes:
    data = read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(
            f"archive member {name!r} is larger than {MAX_SPEC_BYTES // (1024 * 1024)} MB uncompressed"
        )
    return data


def zip_members(data: bytes, wanted: Callable[[str], bool]) -> list[tuple[str, bytes]]:
    """The wanted members of a zip archive, each read with the size bound."""
    out: list[tuple[str, bytes]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise SpecError(f"the archive lists {len(infos)} entries; at most {MAX_ARCHIVE_MEMBERS} are read")
        for info in infos:
            if info.is_dir() or not wanted(info.filename):
                continue
            # The declared size may lie: the read itself is bounded.
            with zf.open(info) as f:
                out.append((info.filename, _read_bounded(f.read, info.filename)))
    return out


def tar_members(data: bytes, wanted: Callable[[str], bool]) -> list[tuple[str, bytes]]:
    """The wanted members of a (compressed) tar archive, each read with the size bound.

    Members are visited as a stream, so an archive of endless headers stops at the
    member bound instead of being listed whole."""
    out: list[tuple[str, bytes]] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        for count, member in enumerate(tf, start=1):
            if count > MAX_ARCHIVE_MEMBERS:
                raise SpecError(f"the archive holds more than {MAX_ARCHIVE_MEMBERS} entries")
            if not member.isfile() or not wanted(member.name):
                continue
            if member.size > MAX_SPEC_BYTES:
                raise SpecError(
                    f"archive member {member.name!r} is larger than {MAX_SPEC_BYTES // (1024 * 1024)} MB"
                )
            f = tf.extractfile(member)
            if f is not None:
                out.append((member.name, _read_bounded(f.read, member.name)))
    return out
