"""Run ids and default run names, one format for every way a run is created."""

from __future__ import annotations

import uuid
from datetime import datetime


def new_run_id() -> str:
    """KFP's format: a UUID in its canonical dashed form (as kfp.Client and the UI see)."""
    return str(uuid.uuid4())


def default_run_name(pipeline_name: str, created_at: datetime) -> str:
    """The name of a run created without one: the pipeline's name and when."""
    return f"{pipeline_name or 'run'} {created_at.strftime('%Y-%m-%d %H:%M:%S')}"
