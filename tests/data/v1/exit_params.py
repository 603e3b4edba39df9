"""kfp 1.8: the exit handler takes a pipeline parameter (Argo passes the workflow's
arguments to the onExit template)."""
import kfp
from kfp import dsl
from kfp.components import create_component_from_func


@create_component_from_func
def say(msg: str):
    print("said", msg)


@dsl.pipeline(name="exit-params")
def exit_params(word: str = "bye"):
    with dsl.ExitHandler(say(word)):
        say("inside")


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(exit_params, __file__ + ".yaml")
