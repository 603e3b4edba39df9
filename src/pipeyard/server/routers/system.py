"""Health and server information."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

import pipeyard
from pipeyard.server.context import ServerContext, get_ctx

router = APIRouter(tags=["system"])


def database_kind(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


@router.get("/apis/v2beta1/healthz")
def healthz(ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    # kfp.Client reads multi_user to decide whether it needs a namespace.
    return {"multi_user": False, "pipeline_store": "database", "commit_sha": "", "tag_name": _version()}


@router.get("/apis/pipeyard/v1/info")
def info(ctx: ServerContext = Depends(get_ctx)) -> dict[str, Any]:
    return {
        "version": _version(),
        "database": database_kind(ctx.settings.database_url),
        "pipeline_root": ctx.settings.pipeline_root,
    }


def _version() -> str:
    return str(getattr(pipeyard, "__version__", "") or "0.1.0")
