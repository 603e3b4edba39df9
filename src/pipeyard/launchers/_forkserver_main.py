"""The fork server's own process: run as a script by the task's interpreter.

It imports ``kfp.dsl.executor_main`` once, then, for each request read from
its control socket (a SOCK_SEQPACKET unix socket, one JSON message per
request, carrying the write end of the task's output pipe as SCM_RIGHTS),
forks a child that becomes a new session, takes the request's environment,
directory and argv, and runs KFP's executor main. The parent reports the
child's pid at once and its exit status when it reaps it.

This file runs outside pipeyard's package context (possibly in a cached venv
that cannot import pipeyard), so it imports nothing from pipeyard. It must
stay single-threaded: it forks.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import selectors
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

MAX_MESSAGE = 1 << 20


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode())


def _read_back(args: list[str]) -> list[str]:
    # Large arguments arrive as file references (see arg_files.py); this script runs
    # without pipeyard on its path, so the reading is repeated here.
    prefix = "@pipeyard-arg-file:"
    out = []
    for arg in args:
        if arg.startswith(prefix):
            with open(arg[len(prefix) :], encoding="utf-8") as f:
                arg = f.read()
        out.append(arg)
    return out


_SOURCES: dict[str, list[str]] = {}


def _installed_dirs() -> dict[str, list[str]]:
    """Where the interpreter's own modules live: the standard library, then site-packages."""
    import site
    import sysconfig

    paths = sysconfig.get_paths()
    stdlib = {paths["stdlib"], paths["platstdlib"]}
    installed = {paths["purelib"], paths["platlib"], *site.getsitepackages()}
    with contextlib.suppress(AttributeError):
        installed.add(site.getusersitepackages())
    return {
        "stdlib": sorted(os.path.realpath(p) + os.sep for p in stdlib),
        "site": sorted(os.path.realpath(p) + os.sep for p in installed),
    }


def _kind(name: str, module: Any) -> str:
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return "stdlib" if name in sys.builtin_module_names else "other"
    real = os.path.realpath(file)
    # site-packages usually sits inside the stdlib folder: test it first.
    for kind in ("site", "stdlib"):
        if any(real.startswith(d) for d in _SOURCES.get(kind, [])):
            return kind
    return "other"


def _report_modules(path: str, baseline: frozenset[str]) -> None:
    """Write the modules the task imported beyond the server's (see preload.py)."""
    found = [[name, _kind(name, module)] for name, module in list(sys.modules.items()) if name not in baseline]
    partial = f"{path}.{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(found, f)
    os.replace(partial, path)


# What the server has imported, taken once before its first fork (``_settle``): a child
# that built it from sys.modules itself wrote a thousand-entry set into shared pages.
_BASELINE: frozenset[str] = frozenset()


def _take_env(env: dict[str, str]) -> None:
    """Make ``os.environ`` exactly ``env``, touching only the variables that differ.

    A task's environment is the server's plus a few variables (PATH, the task's own);
    clearing and refilling all of them re-ran libc's setenv (a malloc and an environ
    array realloc each) and rebuilt os.environ's dicts: a hundred copied pages per child."""
    current = os.environ
    for name in [name for name in current if name not in env]:
        del current[name]
    for name, value in env.items():
        if current.get(name) != value:
            current[name] = value


def _default_signal(signum: int, handler: Any) -> None:
    if signal.getsignal(signum) is not handler:
        signal.signal(signum, handler)


def _become_task() -> None:
    """The child's set-up that no request decides: its own session, default signals."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _default_signal(signal.SIGTERM, signal.SIG_DFL)
    _default_signal(signal.SIGINT, signal.default_int_handler)


def _run_spare(sock: socket.socket) -> int:
    """A child forked before its request (``Server._fork_spare``): set up, rehearse, then
    wait for the request the server forwards; exit quietly if the server goes away first."""
    _become_task()
    _rehearse()
    try:
        data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 1)
    except OSError:
        return 0
    finally:
        sock.close()
    if not data or not fds:
        for fd in fds:
            os.close(fd)
        return 0
    return _run_child(json.loads(data), fds[0])


def _run_child(request: dict[str, Any], out_fd: int) -> int:
    """Everything after ``_become_task`` in the child; returns the exit code.

    Each write here lands on a page shared with the server and so costs a page copy
    (the child's main cost): what the server could set up once is set up there
    (``_settle``), and what is already as wanted is left alone."""
    # Standard input is /dev/null already (the server's own, see _settle).
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    # Output is read live by the launcher; do not hold it in a block buffer (the server's
    # streams are line-buffered already, see _settle).
    for stream in (sys.stdout, sys.stderr):
        if not stream.line_buffering:  # type: ignore[union-attr]
            stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    code = 0
    try:
        # Join the task's cgroups (memory/CPU limits) before the task allocates anything.
        for procs in request.get("cgroup_procs", ()):
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        _take_env(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        sys.path[:0] = request.get("sys_path", [])
        _execute(_read_back(request["args"]))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, int) and exit_.code is not None:
            print(exit_.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    if request.get("report"):
        # Never the task's concern: a failure here only loses the record.
        with contextlib.suppress(Exception):
            _report_modules(request["report"], _BASELINE)
    try:
        import atexit

        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


# The options ``kfp.dsl.executor_main`` reads; each takes one value.
_OPTIONS = ("--component_module_path", "--function_to_execute", "--executor_input")
# Compiled component modules, by path: (what the file was when compiled, its code).
_CODE: dict[str, tuple[tuple[int, int, int], Any]] = {}


def _direct_args(args: list[str]) -> dict[str, str] | None:
    """The executor's options when ``args`` are exactly ``--option value`` pairs of
    ``_OPTIONS``, each at most once, with a module path and a function; else None
    (anything else, abbreviations or ``--opt=value`` included, goes to argparse)."""
    if len(args) % 2:
        return None
    found: dict[str, str] = {}
    for name, value in zip(args[::2], args[1::2], strict=True):
        if name not in _OPTIONS or name in found or value.startswith("-"):
            return None
        found[name] = value
    complete = len(found) == len(_OPTIONS) and found["--component_module_path"].endswith(".py")
    return found if complete else None


@functools.cache
def _direct_supported() -> bool:
    """Whether this kfp's ``executor_main`` is the one ``_execute_direct`` does the work of
    (kfp.dsl.executor_main has not changed from kfp 2.2 to at least 2.17)."""
    import kfp

    try:
        major, minor = (int(part) for part in kfp.__version__.split(".")[:2])
    except (AttributeError, ValueError):
        major, minor = 0, 0
    try:
        from kfp.dsl import executor, executor_main

        known = callable(getattr(executor_main, "_setup_logging", None)) and hasattr(executor, "Executor")
    except ImportError:
        known = False
    return major == 2 and minor >= 2 and known


def _execute(args: list[str]) -> None:
    """Run KFP's executor on ``args`` as ``python -m kfp.dsl.executor_main`` would."""
    sys.argv = ["executor_main", *args]
    direct = _direct_args(args) if _direct_supported() else None
    if direct is None:
        from kfp.dsl import executor_main

        executor_main.executor_main()
        return
    _execute_direct(direct["--component_module_path"], direct["--function_to_execute"], direct["--executor_input"])


def _execute_direct(module_path: str, func_name: str, executor_input_json: str, code: Any = None) -> None:
    """What ``executor_main()`` does for these options (same log lines, module, Executor
    call and errors) without building its argument parser per task: argparse's set-up
    (its gettext look-ups stat locale files) was about 2 ms of a 6 ms child. The
    module's code comes compiled from the server when it compiled it (``compile_module``),
    or is ``code`` (``_rehearse``)."""
    import logging

    from kfp.dsl import executor, executor_main

    executor_main._setup_logging()
    logging.info(f"Looking for component `{func_name}` in --component_module_path `{module_path}`")
    module_directory = os.path.dirname(module_path)
    module_name = os.path.basename(module_path)[: -len(".py")]
    logging.info(f'Loading KFP component "{func_name}" from {module_path} '
                 f'(directory "{module_directory}" and module name "{module_name}")')
    module = _load_module(module_name, module_directory, module_path, code)
    executor_input = json.loads(executor_input_json)
    function_to_execute = getattr(module, func_name)
    logging.info(f"Got executor_input:\n{json.dumps(executor_input, indent=4)}")
    output_file = executor.Executor(executor_input=executor_input, function_to_execute=function_to_execute).execute()
    if output_file is None:
        logging.info("Did not write output file.")
    else:
        logging.info(f"Wrote executor output file to {output_file}.")


def _load_module(module_name: str, module_directory: str, module_path: str, code: Any = None) -> Any:
    """``kfp.dsl.utils.load_module``, executing code compiled before the fork when there is."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name=module_name, location=os.path.join(module_directory,
                                                                                          f"{module_name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(module_directory))
    cached = (None, code) if code is not None else _CODE.get(module_path)
    if cached is not None and (code is not None or cached[0] == _file_key(module_path)) and spec.origin == module_path:
        exec(cached[1], module.__dict__)  # noqa: S102 - the component's own code, as its loader would run it
    else:
        spec.loader.exec_module(module)
    return module


def _file_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def compile_module(args: list[str]) -> bool:
    """In the server, before forking: compile the request's component module once (the
    launcher writes one file per component source, so its path and stat are the key).
    Each child would otherwise read and unmarshal it again. Failures are the child's
    to meet, through the ordinary loader. True when the compiled code kept here changed
    (a spare forked before it does not have it)."""
    direct = _direct_args(args)
    if direct is None:
        return False
    path = direct["--component_module_path"]
    key = _file_key(path)
    if key is None or (path in _CODE and _CODE[path][0] == key):
        return False
    try:
        with open(path, "rb") as f:
            source = f.read()
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception:  # noqa: BLE001 - a syntax error is reported by the child's import
        return _CODE.pop(path, None) is not None
    if len(_CODE) >= 256:
        _CODE.clear()
    _CODE[path] = (key, code)
    return True


# The warm-up's component compiled once (``_settle``), for the spares to rehearse with.
_REHEARSAL: Any = None
_REHEARSAL_PATH = "/nonexistent/pipeyard-rehearsal/_pipeyard_warm.py"
# Where the rehearsal's executor writes its outputs: nowhere.
_REHEARSAL_INPUT = json.dumps({"inputs": {"parameterValues": {"x": 1}},
                               "outputs": {"parameters": {"Output": {"outputFile": os.devnull}},
                                           "outputFile": os.devnull}})


def _rehearse() -> None:
    """In a spare, before its request: run the warm-up's trivial component once through
    the executor, outputs and log to /dev/null, no file read or written.

    The executor's path writes to a few hundred pages shared with the server (reference
    counts, logging's and the executor's objects, the allocator's free lists); each write
    copies a page, about 4 us here. A spare waits while the previous task runs, on an
    otherwise idle CPU (spares exist only in a chain), so copying them now takes that
    work off the task's own time. What it leaves behind is what the server's warm-up
    left (the same logging set-up, no module, argv and sys.path as they were)."""
    if _REHEARSAL is None:
        return
    saved_argv, saved_path = list(sys.argv), list(sys.path)
    try:
        _execute_direct(_REHEARSAL_PATH, "_pipeyard_warm", _REHEARSAL_INPUT, _REHEARSAL)
    except BaseException:  # noqa: BLE001, S110 - a failed rehearsal only means a colder task
        pass
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        sys.modules.pop("_pipeyard_warm", None)
        sys.stdout.flush()
        sys.stderr.flush()


# A component the server runs through KFP's executor before its first fork (see _warm_up).
_WARM_SOURCE = "def _pipeyard_warm(x: int) -> int:\n    return x\n"
_WARM_RUNS = 10


def _warm_up() -> None:
    """Run a trivial component through ``_execute`` here, a few times, before forking.

    Each child would otherwise do, for itself, the first-time work of that path: set up
    logging's root handler, and let the interpreter specialise the bytecode of every
    function on it (3.11 rewrites code objects in place on their first calls). In a child
    each of those is a write to memory shared with this process, so a copied page. Done
    here once, the children inherit the result: about 1-2 ms less CPU per task. Logging
    ends up configured here exactly as the executor configures it in the child (the
    child's own basicConfig call then does nothing). Any failure only means a colder child."""
    import shutil
    import tempfile

    saved_argv, saved_path = list(sys.argv), list(sys.path)
    folder = tempfile.mkdtemp(prefix="pipeyard-warm-")
    try:
        with open(os.path.join(folder, "_pipeyard_warm.py"), "w", encoding="utf-8") as f:
            f.write(_WARM_SOURCE)
        for i in range(_WARM_RUNS):
            out = os.path.join(folder, str(i))
            executor_input = {
                "inputs": {"parameterValues": {"x": i}},
                "outputs": {"parameters": {"Output": {"outputFile": os.path.join(out, "Output")}},
                            "outputFile": os.path.join(out, "executor_output.json")},
            }
            args = ["--component_module_path", os.path.join(folder, "_pipeyard_warm.py"),
                    "--executor_input", json.dumps(executor_input), "--function_to_execute", "_pipeyard_warm"]
            compile_module(args)
            _execute(args)
    except BaseException:  # noqa: BLE001, S110 - a failed warm-up changes nothing a task sees
        pass
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        sys.modules.pop("_pipeyard_warm", None)
        _CODE.clear()
        shutil.rmtree(folder, ignore_errors=True)
        # The executor logged to this process's stdout (devnull); nothing of it may wait in
        # a buffer that a child would inherit and flush into its task's log.
        sys.stdout.flush()
        sys.stderr.flush()


def _keep_baseline() -> None:
    # Nothing the server runs between forks imports; should anything, the baseline stays exact.
    global _BASELINE
    if len(sys.modules) != len(_BASELINE):
        _BASELINE = frozenset(sys.modules)


def _settle() -> None:
    """Set up once, before the first fork, what every child would otherwise set up for itself."""
    global _REHEARSAL
    _keep_baseline()
    if _direct_supported():
        _REHEARSAL = compile(_WARM_SOURCE, _REHEARSAL_PATH, "exec", dont_inherit=True)
    # The children's standard input; the launcher started us on /dev/null already, but a
    # server started otherwise must not hand its children its own input.
    devnull = os.open(os.devnull, os.O_RDONLY)
    if devnull != 0:
        os.dup2(devnull, 0)
        os.close(devnull)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]


# ``PIPEYARD_FORK_AHEAD=0`` (read from the environment the server starts with): no spares.
_FORK_AHEAD = os.environ.get("PIPEYARD_FORK_AHEAD", "1").strip().lower() not in ("0", "false", "no", "off")


class Server:
    """Forks a child per request; keeps one child forked ahead ("the spare").

    In a chain the launcher waits for each task, so a task's fork is on the run's critical
    path: the page-table copy here and, in the child, the pages the fork's return and its
    set-up copy (about a third of a trivial child's cost). The spare pays that while the
    previous task runs; a request is then only forwarded to it (the request's own bytes
    and output pipe, over a socket pair of its own). A request whose component module was
    just compiled here is forked directly, as is any request when there is no spare: a
    spare forked before the compile would load the module itself.

    A spare is not free: while it lives, every page this process writes is copied rather
    than reused, and its rehearsal runs the executor once more (together about 1-1.5 ms
    of CPU a task). So one is forked only in a chain: when the launcher says it runs no
    other task (``alone``) and this is the only child running. With tasks in parallel
    the CPUs are busy (the launcher's loop the busiest), and a fork ahead would only add work."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.children: dict[int, Any] = {}  # pid -> request id
        self.spare: tuple[int, socket.socket] | None = None
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        # A handler (not SIG_DFL) is needed for the wakeup fd to see SIGCHLD.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(self.sock, selectors.EVENT_READ, "request")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "signal")
        while True:
            for key, _ in self.selector.select():
                if key.data == "signal":
                    while True:
                        try:
                            if not os.read(self.wake_r, 512):
                                break
                        except BlockingIOError:
                            break
                    self.reap()
                elif not self.handle_request():
                    self.shutdown()
                    return

    def handle_request(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 1)
        except InterruptedError:
            return True
        except OSError:
            return False
        if not data:
            return False
        request = json.loads(data)
        if not fds:
            _send(self.sock, {"id": request["id"], "error": "no output pipe received"})
            return True
        out_fd = fds[0]
        fresh = compile_module(request["args"])
        _keep_baseline()
        pid = None if fresh else self._hand_to_spare(data, out_fd)
        if pid is None:
            self._drop_spare()  # forked before the module's code was: let it go
            try:
                pid = self._fork(lambda: _run_child(request, out_fd))
            except OSError as exc:
                os.close(out_fd)
                _send(self.sock, {"id": request["id"], "error": f"fork failed: {exc}"})
                return True
        os.close(out_fd)
        self.children[pid] = request["id"]
        _send(self.sock, {"id": request["id"], "pid": pid})
        if request.get("alone") and len(self.children) == 1 and _FORK_AHEAD:
            self._fork_spare()
        # The child may have exited before we registered it; a reap now catches that.
        self.reap()
        return True

    def _fork(self, run: Callable[[], int], spare: socket.socket | None = None) -> int:
        """Fork a child that closes the server's descriptors and runs ``run``: at once as a
        task, or, given the server's end of a spare's socket pair, as that spare."""
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self.sock.close()
                os.close(self.wake_r)
                os.close(self.wake_w)
                if spare is None:
                    _become_task()
                else:
                    spare.close()  # else the spare would never see the server go
                code = run()
            finally:
                os._exit(code)
        return pid

    def _fork_spare(self) -> None:
        if self.spare is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            for sock in (ours, theirs):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, MAX_MESSAGE)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, MAX_MESSAGE)
            self.spare = (self._fork(lambda: _run_spare(theirs), spare=ours), ours)
        except OSError:
            ours.close()  # no spare: requests are forked directly
        finally:
            theirs.close()

    def _hand_to_spare(self, data: bytes, out_fd: int) -> int | None:
        """Forward the request to the spare; its pid, or None when there is no live spare."""
        if self.spare is None:
            return None
        pid, sock = self.spare
        self.spare = None
        try:
            socket.send_fds(sock, [data], [out_fd])
        except OSError:
            return None  # it died meanwhile; reaped as a stranger
        finally:
            sock.close()
        return pid

    def _drop_spare(self) -> None:
        if self.spare is not None:
            self.spare[1].close()  # it sees the end of its socket and exits
            self.spare = None

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            request_id = self.children.pop(pid, None)
            if request_id is not None:
                _send(self.sock, {"id": request_id, "exit": os.waitstatus_to_exitcode(status)})

    def shutdown(self) -> None:
        # The launcher is gone: its tasks must not outlive it.
        self._drop_spare()
        for pid in list(self.children):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def main() -> None:
    # Running as a script put this directory first on sys.path; task code must
    # not see pipeyard's launcher modules as top-level modules.
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    fd = int(sys.argv[1])
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    preload: dict[str, Any] = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            preload = json.load(f)
    # Thread pools (OpenBLAS, OpenMP) size themselves when imported; one thread keeps us forkable.
    os.environ.update(preload.get("env", {}))
    # The reason this process exists: pay for these imports once, not per task.
    import kfp.dsl.executor_main  # noqa: F401

    # What a typical executor run imports lazily; each fork would pay it again.
    for name in ("shutil", "locale", "zlib", "bz2", "lzma", "kfp.dsl.executor"):
        with contextlib.suppress(ImportError):
            __import__(name)
    _SOURCES.update(_installed_dirs())
    failed = []
    # A thousand modules' imports create objects that all live on: collecting meanwhile is waste.
    gc.disable()
    for name in preload.get("modules", []):
        try:
            __import__(name)
        except BaseException:  # noqa: BLE001 - any failure only means "not preloaded"
            failed.append(name)
    gc.enable()
    _warm_up()
    # Forking is safe only while this process runs one thread (threads do not survive fork).
    threads = len(os.listdir("/proc/self/task"))
    _send(sock, {"ready": True, "pid": os.getpid(), "threads": threads, "failed": failed[:20]})
    if threads > 1:
        sock.close()
        os._exit(3)
    _settle()
    # What exists now lives as long as this process: keep the children's collector off it
    # (a collection would otherwise touch, and so copy, every page of it in each child).
    gc.freeze()
    Server(sock).serve()
    # Its children are reaped; tearing down an interpreter full of modules would
    # only make the launcher (and so every `pipeyard run`) wait longer to exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
