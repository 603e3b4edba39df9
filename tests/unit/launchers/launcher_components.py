"""KFP components used by the launcher tests.

No ``from __future__ import annotations`` here: kfp reads the component
signatures' annotations at decoration time and needs real types, not strings.
"""

from launcher_kfp_tasks import component


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
