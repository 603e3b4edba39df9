"""Run one compiled pipeline under kfp.local and report, as one JSON line, how it went.

This file runs with the interpreter of ``benchmarks/.venv-kfp-local``, never with pipeyard's:
kfp.local without its venv option reinstalls the kfp version the YAML was compiled with into
whatever interpreter runs it. It must therefore import nothing but kfp and the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("pipeline_yaml")
    parser.add_argument("--pipeline-root", required=True)
    args = parser.parse_args()

    started = time.perf_counter()
    from kfp import components, local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=args.pipeline_root)
    pipeline = components.load_component_from_file(args.pipeline_yaml)
    imported = time.perf_counter()
    try:
        pipeline()
    except Exception as error:  # any refusal or failure is the result being reported
        result = {"ok": False, "error_type": type(error).__name__, "error": str(error)[:2000]}
    else:
        result = {"ok": True}
    finished = time.perf_counter()
    result["setup_seconds"] = imported - started
    result["pipeline_seconds"] = finished - imported
    # kfp.local logs to stdout as well, so the result goes on its own clearly marked line.
    sys.stdout.write("\nKFP_LOCAL_RESULT " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
