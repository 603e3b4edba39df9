"""Artifact URIs and the file systems behind them (a leaf: no engine, store or server)."""
