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
import gc
import json
import os
import selectors
import signal
import socket
import sys
import traceback
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


def _report_modules(path: str, baseline: set[str]) -> None:
    """Write the modules the task imported beyond the server's (see preload.py)."""
    found = [[name, _kind(name, module)] for name, module in list(sys.modules.items()) if name not in baseline]
    partial = f"{path}.{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(found, f)
    os.replace(partial, path)


def _run_child(request: dict[str, Any], out_fd: int) -> int:
    """Everything after fork in the child; returns the exit code."""
    baseline = set(sys.modules)
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(devnull)
    os.close(out_fd)
    # Output is read live by the launcher; do not hold it in a block buffer.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    code = 0
    try:
        # Join the task's cgroups (memory/CPU limits) before the task allocates anything.
        for procs in request.get("cgroup_procs", ()):
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        sys.path[:0] = request.get("sys_path", [])
        sys.argv = ["executor_main", *_read_back(request["args"])]
        from kfp.dsl import executor_main

        executor_main.executor_main()
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
            _report_modules(request["report"], baseline)
    try:
        import atexit

        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


# A component the server runs through KFP's executor before its first fork (see _warm_up).
_WARM_SOURCE = "def _pipeyard_warm(x: int) -> int:\n    return x\n"
_WARM_RUNS = 10


def _warm_up() -> None:
    """Run a trivial component through ``executor_main`` here, a few times, before forking.

    Each child would otherwise do, for itself, the first-time work of that path: compile
    argparse's regular expressions, set up logging's root handler, and let the interpreter
    specialise the bytecode of every function on it (3.11 rewrites code objects in place
    on their first calls). In a child each of those is a write to memory shared with this
    process, so a copied page. Done here once, the children inherit the result: about
    1-2 ms less CPU per task. Logging ends up configured here exactly as the executor
    configures it in the child (the child's own basicConfig call then does nothing).
    Any failure only means a colder child."""
    import shutil
    import tempfile

    saved_argv, saved_path = list(sys.argv), list(sys.path)
    folder = tempfile.mkdtemp(prefix="pipeyard-warm-")
    try:
        from kfp.dsl import executor_main

        with open(os.path.join(folder, "_pipeyard_warm.py"), "w", encoding="utf-8") as f:
            f.write(_WARM_SOURCE)
        for i in range(_WARM_RUNS):
            out = os.path.join(folder, str(i))
            executor_input = {
                "inputs": {"parameterValues": {"x": i}},
                "outputs": {"parameters": {"Output": {"outputFile": os.path.join(out, "Output")}},
                            "outputFile": os.path.join(out, "executor_output.json")},
            }
            sys.argv = ["executor_main", "--component_module_path", os.path.join(folder, "_pipeyard_warm.py"),
                        "--executor_input", json.dumps(executor_input), "--function_to_execute", "_pipeyard_warm"]
            executor_main.executor_main()
    except BaseException:  # noqa: BLE001, S110 - a failed warm-up changes nothing a task sees
        pass
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        sys.modules.pop("_pipeyard_warm", None)
        shutil.rmtree(folder, ignore_errors=True)
        # The executor logged to this process's stdout (devnull); nothing of it may wait in
        # a buffer that a child would inherit and flush into its task's log.
        sys.stdout.flush()
        sys.stderr.flush()


class Server:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.children: dict[int, Any] = {}  # pid -> request id
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
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(out_fd)
            _send(self.sock, {"id": request["id"], "error": f"fork failed: {exc}"})
            return True
        if pid == 0:
            code = 1
            try:
                self.sock.close()
                os.close(self.wake_r)
                os.close(self.wake_w)
                code = _run_child(request, out_fd)
            finally:
                os._exit(code)
        os.close(out_fd)
        self.children[pid] = request["id"]
        _send(self.sock, {"id": request["id"], "pid": pid})
        # The child may have exited before we registered it; a reap now catches that.
        self.reap()
        return True

    def reap(self) -> None:
        while self.children:
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
