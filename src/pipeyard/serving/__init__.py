"""Serving: a model artifact behind KServe's model server, as a managed deployment.

``formats`` finds a model and its format, ``specs`` checks what a client asks for,
``manager`` keeps the model server processes of a ``pipeyard server`` running,
``runtime`` finds the interpreter with KServe, and ``from_task`` is what the
``deploy_model`` component calls inside a run. The server's router and the CLI call
these; nothing here imports the server.
"""
