"""Compile a kfp 1.x pipeline file; run by the kfp 1.8 interpreter, never imported by pipeyard.

Usage: python _kfp1_driver.py FILE OUT.yaml [PIPELINE_NAME]

The file is imported under its own module name (not ``__main__``), so its
``if __name__ == "__main__": Compiler().compile(...)`` block does not write beside it.
``@dsl.pipeline`` functions are collected through kfp 1.x's decorator hook, as
``dsl-compile`` does. Exit code 3 with a one-line reason on stderr for user mistakes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from typing import Any


def fail(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")
    sys.exit(3)


def main() -> None:
    path, out = sys.argv[1], sys.argv[2]
    wanted = sys.argv[3] if len(sys.argv) > 3 else None
    import kfp
    from kfp import compiler
    from kfp.dsl import _pipeline

    found: list[Any] = []

    def collect(func: Any) -> Any:
        found.append(func)
        return func

    _pipeline._pipeline_decorator_handler = collect
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("_pipeyard_kfp1_user", path)
    if spec is None or spec.loader is None:
        fail(f"cannot import {path} as a Python module")
        return
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException as e:  # report the user's line, not ours
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == os.path.abspath(path)
                  or f.filename == path]
        line = f" (line {frames[-1].lineno})" if frames else ""
        fail(f"importing the file with kfp {kfp.__version__} failed{line}: {type(e).__name__}: {e}")

    def names(func: Any) -> set[str]:
        return {func.__name__, getattr(func, "_component_human_name", func.__name__)}

    if wanted is not None:
        found = [f for f in found if wanted in names(f)]
        if not found:
            fail(f"no pipeline named {wanted!r} in the file")
    if not found:
        fail("no @dsl.pipeline function found in the file")
    if len(found) > 1:
        listed = ", ".join(sorted(f.__name__ for f in found))
        fail(f"the file defines several pipelines ({listed}); choose one by name")
    try:
        compiler.Compiler().compile(found[0], out)
    except Exception as e:
        fail(f"kfp {kfp.__version__} could not compile the pipeline: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
