"""KFP components used by the launcher tests.

No ``from __future__ import annotations`` here: kfp reads the component
signatures' annotations at decoration time and needs real types, not strings.
"""

from tests.support.launcher_kfp_tasks import component


@component()
def add(a: int, b: int, out_path: str) -> int:
    with open(out_path, "w") as f:
        f.write(str(a + b))
    print("sum is", a + b)
    return a + b


@component()
def fail(message: str) -> int:
    raise ValueError(message)


@component()
def count_imports(marker: str) -> int:
    # Mutates state shared by every fork: each task must still see a fresh copy.
    import kfp

    seen = getattr(kfp, "_pipeyard_test_counter", 0) + 1
    kfp._pipeyard_test_counter = seen  # type: ignore[attr-defined]
    print(marker, seen)
    return seen


@component()
def spawn_and_hang(pid_file: str) -> int:
    import subprocess
    import time

    child = subprocess.Popen(["sleep", "1000"])
    print("grandchild", child.pid, flush=True)
    time.sleep(1000)
    return 0


@component()
def report_parent() -> int:
    import os

    return os.getppid()


@component(packages_to_install=["inflection==0.5.1"])
def use_inflection(word: str) -> str:
    import inflection

    print("inflection from", inflection.__file__)
    return inflection.camelize(word)


@component(packages_to_install=["pipeyard-no-such-package-xyz==0.0.1"])
def needs_missing_package() -> int:
    return 0


@component()
def hold(pid_file: str, release_file: str) -> int:
    # Says where it runs, then waits for the test to look at it from outside.
    import os
    import time

    with open(pid_file + ".part", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".part", pid_file)
    deadline = time.monotonic() + 300
    while not os.path.exists(release_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    return os.getpid()


@component()
def describe_process() -> str:
    """What the task's process started from: its PIPEYARD_T_* variables, input, streams, session."""
    import json
    import os
    import sys

    return json.dumps({
        "env": {k: v for k, v in os.environ.items() if k.startswith("PIPEYARD_T_")},
        "stdin": os.readlink("/proc/self/fd/0"),
        "line_buffered": [sys.stdout.line_buffering, sys.stderr.line_buffering],
        "leader": os.getpgid(0) == os.getpid() == os.getsid(0),
        "pid": os.getpid(),
        # What the fork server's rehearsal in a spare must not leave behind.
        "leftovers": [m for m in sys.modules if "pipeyard_warm" in m] + [p for p in sys.path if "rehearsal" in p],
        "argv": sys.argv[1:3],
    })
