"""The pipeline contract: KFP's compiled ``PipelineSpec`` and what is needed to run it.

- ``loader``: read a pipeline file (YAML, JSON, ``.py``, ``.zip``, ``.tar.gz``) into the
  protobuf ``PipelineSpec`` plus the optional kfp-kubernetes platform spec, and check
  that its internal references hold.
- ``views``: frozen, typed views over the proto that the rest of pipeyard uses.
- ``placeholders``: substitute KFP's ``{{$...}}``, ``Concat`` and ``IfPresent`` placeholders
  into a container's command and args.
- ``cel``: evaluate ``triggerPolicy.condition`` and ``parameterExpressionSelector`` CEL.
- ``params``: parse and type-check run parameters against an input definition.
- ``python_component``: recognise KFP Python components in a resolved command line.

Everything here is pure: no I/O beyond reading (and, for ``.py``, compiling) the input file.
"""
