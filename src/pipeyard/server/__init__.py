"""pipeyard's HTTP server: KFP's v2beta1 REST API, the UI's extra endpoints, and the
workers that execute submitted runs inside the server process."""
