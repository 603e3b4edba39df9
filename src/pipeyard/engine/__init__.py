"""The run state machine and scheduler: expands the DAG and drives tasks."""
