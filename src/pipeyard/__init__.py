"""pipeyard: run Kubeflow Pipelines on one machine."""

__version__ = "0.1.0"
