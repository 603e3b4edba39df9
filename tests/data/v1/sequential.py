import kfp
import kfp.components as comp
from kfp import dsl


@comp.create_component_from_func
def process_data_op():
    print("Processing Data")

@comp.create_component_from_func
def train_op():
    print("Training ML Model")

@dsl.pipeline(name='sequential-pipeline', description='A pipeline for Medium Followers.')
def sequential_pipeline():
    process_task = process_data_op()
    train_task = train_op()
    train_task.after(process_task)

if __name__ == '__main__':
    kfp.compiler.Compiler().compile(sequential_pipeline, __file__ + '.yaml')
