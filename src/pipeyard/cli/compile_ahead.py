"""``pipeyard run pipeline.py``: the file is compiled in a forked child, on the other core.

Compiling a ``.py`` file imports kfp's DSL and compiler, then the user's module, then
runs the compiler: about a tenth of a second that ``pipeyard run`` spent in series with
importing its engine and store. Forked early (one thread, the loader imported), the
child loads the pipeline as ``load_any_pipeline_file`` would while the parent imports;
the parent then receives the compiled spec, serialized, when it would have compiled it
itself, and never imports kfp's DSL or the user's module.

Whatever the child cannot hand over (it crashed, was killed, or failed other than with
a ``SpecError`` about the file) makes the parent load the file itself, as before, so
the outcome and its messages are those of an in-process load. The child dies with the
parent (``PR_SET_PDEATHSIG``) and is reaped by ``result`` or ``discard``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import struct
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeyard.errors import SpecError

if TYPE_CHECKING:
    from pipeyard.ir.loader import LoadedPipeline

_PR_SET_PDEATHSIG = 1
_HEADER = struct.Struct("!I")  # the JSON header's length; the serialized spec follows it


@dataclass
class CompileAhead:
    pid: int
    read_fd: int
    path: str
    pipeline_name: str | None

    def result(self) -> LoadedPipeline | None:
        """The pipeline the child loaded, or None: the caller loads it itself. Raises
        the child's ``SpecError`` (the file itself is wrong)."""
        data = self._collect()
        if len(data) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(data)
        try:
            header = json.loads(data[_HEADER.size:_HEADER.size + size])
        except ValueError:
            return None
        if "error" in header:
            raise SpecError(header["error"], where=header.get("where"))
        from pipeyard.ir.loader import LoadedPipeline, PipelineSpec

        spec = PipelineSpec.FromString(data[_HEADER.size + size:])
        loaded = LoadedPipeline(spec=spec, platform_spec=header.get("platform_spec"), source=header["source"])
        # The spec's JSON form, which the child made on the other core: the cached property's value.
        loaded.__dict__["spec_dict"] = header["spec_dict"]
        return loaded

    def discard(self) -> None:
        """The run did not get as far as loading its file: stop the child and reap it."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        self._collect()

    def _collect(self) -> bytes:
        if self.read_fd < 0:
            return b""
        chunks = []
        try:
            while chunk := os.read(self.read_fd, 1 << 20):
                chunks.append(chunk)
        except BaseException as e:  # a Ctrl-C while waiting: the child goes too
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            if not isinstance(e, OSError):
                raise
            chunks = []
        finally:
            os.close(self.read_fd)
            self.read_fd = -1
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        return b"".join(chunks)


def start(path: str, pipeline_name: str | None) -> CompileAhead | None:
    """Fork a child that loads the ``.py`` file at ``path``; None for other files, or
    when no child can be forked (the caller then loads the file itself)."""
    if not path.endswith(".py") or not os.path.isfile(path):
        return None
    # What the child needs and this process imports anyway (the loader, protobuf, YAML),
    # imported once for both: the child inherits it.
    import pipeyard.v1.compile  # noqa: F401

    if threading.active_count() > 1:
        return None  # a fork copies no other thread, whatever locks they hold
    for stream in (sys.stdout, sys.stderr):  # or the child would write what they hold again
        with contextlib.suppress(Exception):
            stream.flush()
    parent = os.getpid()
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # pragma: no cover - the child, which never returns
        os.close(read_fd)
        _child(path, pipeline_name, write_fd, parent)
    os.close(write_fd)
    return CompileAhead(pid, read_fd, path, pipeline_name)


def _child(path: str, pipeline_name: str | None, write_fd: int, parent: int) -> None:
    code = 1
    try:
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # it died before the line above
            return
        # A Ctrl-C is the parent's to handle: it discards this child.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _write_all(write_fd, _load(path, pipeline_name))
        code = 0
    except BaseException:  # noqa: BLE001 - nothing sent: the parent loads the file itself
        pass
    finally:
        # The user's module may have printed; nothing of the parent's runs here (atexit, buffers).
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _load(path: str, pipeline_name: str | None) -> bytes:
    from pipeyard.v1.compile import load_any_pipeline_file

    header: dict[str, Any]
    try:
        loaded = load_any_pipeline_file(path, pipeline_name)
    except SpecError as e:
        header, spec = {"error": e.reason, "where": e.where}, b""
    else:
        header = {"source": loaded.source, "platform_spec": loaded.platform_spec, "spec_dict": loaded.spec_dict}
        spec = loaded.spec.SerializeToString()
    encoded = json.dumps(header).encode()
    return _HEADER.pack(len(encoded)) + encoded + spec


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)
