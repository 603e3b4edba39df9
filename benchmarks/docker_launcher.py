"""Time pipeyard's docker launcher against kfp.local's DockerRunner on the same pipelines.

Usage (from the repository root, with a running engine: ``scripts/start-docker.sh``)::

    .venv/bin/python benchmarks/docker_launcher.py            # single and chain-10, median of 3
    .venv/bin/python benchmarks/docker_launcher.py --repeat 1

Both sides run the same compiled YAML of container components in a small local image
(``tests/support/docker_images.py``; no registry needed) and are timed as the wall
time of a whole fresh command: ``pipeyard run FILE --launcher docker --no-cache`` and a
Python process that loads the YAML and calls it under ``kfp.local`` with
``DockerRunner()``. Container components only: kfp.local would pip-install kfp inside the
container for every Python task, which needs a network route these machines lack; and
nothing in kfp.local reinstalls anything on the host for container components, so it can
run in our interpreter. The marginal cost per task is (chain-N - single) / (N - 1).
"""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kfp import compiler, dsl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from docker_images import TOOLS_IMAGE, build_tools_image  # noqa: E402

KFP_LOCAL = """
import sys
from kfp import components, local
local.init(runner=local.DockerRunner(), pipeline_root=sys.argv[2])
components.load_component_from_file(sys.argv[1])()
"""


@dsl.container_component
def step(text: str, out: dsl.OutputPath(str)):  # type: ignore[no-untyped-def,valid-type]
    return dsl.ContainerSpec(image=TOOLS_IMAGE, command=["sh", "-c", 'mkdir -p "$(dirname "$1")"; printf "%s+" "$0" > "$1"'],
                             args=[text, out])


def chain_pipeline(n: int):  # type: ignore[no-untyped-def]
    @dsl.pipeline(name=f"docker-chain-{n}")
    def chain(text: str = "x"):  # type: ignore[no-untyped-def]
        value = text
        for _ in range(n):
            value = step(text=value).outputs["out"]

    return chain


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    build_tools_image()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    pipeyard = str(Path(sys.executable).with_name("pipeyard"))
    rows: dict[str, dict[int, float]] = {"pipeyard (docker)": {}, "kfp.local (DockerRunner)": {}}
    with tempfile.TemporaryDirectory(prefix="pipeyard-bench-docker-") as tmp:
        for n in (1, args.tasks):
            yaml_path = Path(tmp) / f"chain-{n}.yaml"
            compiler.Compiler().compile(chain_pipeline(n), str(yaml_path))
            ours, theirs = [], []
            for i in range(args.repeat):
                run_env = {**env, "PIPEYARD_HOME": f"{tmp}/home-{n}-{i}"}
                ours.append(_timed([pipeyard, "run", str(yaml_path), "--json", "--no-cache",
                                    "--launcher", "docker"], run_env))
                theirs.append(_timed([sys.executable, "-c", KFP_LOCAL, str(yaml_path), f"{tmp}/kfp-{n}-{i}"], env))
            rows["pipeyard (docker)"][n] = statistics.median(ours)
            rows["kfp.local (DockerRunner)"][n] = statistics.median(theirs)
    n = args.tasks
    print(f"| engine | single | chain-{n} | marginal per task |")
    print("| --- | --- | --- | --- |")
    marginal = {}
    for name, times in rows.items():
        marginal[name] = (times[n] - times[1]) / (n - 1)
        print(f"| {name} | {times[1]:.2f} s | {times[n]:.2f} s | {marginal[name] * 1000:.0f} ms |")
    ours_m, theirs_m = marginal["pipeyard (docker)"], marginal["kfp.local (DockerRunner)"]
    print(f"\nper-task ratio (kfp.local / pipeyard): {theirs_m / ours_m:.1f}x" if ours_m > 0 else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
