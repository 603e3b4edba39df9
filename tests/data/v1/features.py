"""A kfp 1.8 pipeline using most of the v1 DSL: typed parameters, outputs, file
artifacts, loops (static, dict items, from an upstream output), conditions with
numbers, an exit handler, retries, a timeout, caching options and env vars."""
from typing import NamedTuple

import kfp
from kfp import dsl
from kfp.components import InputPath, OutputPath, create_component_from_func
from kubernetes.client.models import V1EnvVar


@create_component_from_func
def produce(count: int, word: str, out_path: OutputPath("Text")) -> NamedTuple("Out", [("total", int), ("items", str)]):
    import json
    with open(out_path, "w") as f:
        f.write(" ".join([word] * count))
    return (count * 10, json.dumps([{"a": i, "b": word + str(i)} for i in range(count)]))


@create_component_from_func
def consume(text_path: InputPath("Text"), total: int) -> str:
    with open(text_path) as f:
        text = f.read()
    print("consumed", text, total)
    return text.upper()


@create_component_from_func
def show(value: str, label: str = "v") -> str:
    print(label, value)
    return f"{label}={value}"


@create_component_from_func
def env_echo() -> str:
    import os
    print("GREETING", os.environ["GREETING"])
    return os.environ["GREETING"]


@create_component_from_func
def flaky(marker_dir: str) -> str:
    import os
    os.makedirs(marker_dir, exist_ok=True)
    n = len(os.listdir(marker_dir))
    open(os.path.join(marker_dir, str(n)), "w").close()
    if n < 2:
        raise SystemExit(f"failing attempt {n}")
    return f"ok after {n}"


@create_component_from_func
def goodbye(status: str = "") -> None:
    print("exit handler ran")


@dsl.pipeline(name="v1-features", description="v1 feature tour")
def features(count: int = 3, word: str = "hi", threshold: float = 25.0, marker_dir: str = "/tmp/x"):
    bye = goodbye()
    with dsl.ExitHandler(bye):
        p = produce(count, word)
        c = consume(p.outputs["out"], p.outputs["total"])
        with dsl.ParallelFor([1, 2]) as n:
            show(n, label="static")
        with dsl.ParallelFor(p.outputs["items"], parallelism=1) as item:
            show(item.b, label=f"item-{item.a}")
        with dsl.Condition(p.outputs["total"] > threshold):
            show(c.output, label="big")
        with dsl.Condition(p.outputs["total"] <= threshold):
            show(c.output, label="small")
        with dsl.Condition(word == "hi"):
            e = env_echo()
            e.add_env_variable(V1EnvVar(name="GREETING", value="hello-env"))
        f = flaky(marker_dir)
        f.set_retry(3)
        f.set_timeout(120)
        f.execution_options.caching_strategy.max_cache_staleness = "P0D"


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(features, __file__ + ".yaml")
