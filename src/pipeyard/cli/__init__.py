"""Command line: thin commands over the engine (local runs) or the REST API."""
