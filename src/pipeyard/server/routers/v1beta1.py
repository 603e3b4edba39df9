"""KFP's v1beta1 REST API (kfp 1.8's ``kfp.Client``, KFP v1 UI): one router to register."""

from __future__ import annotations

from fastapi import APIRouter

from pipeyard.server.routers import v1beta1_core, v1beta1_runs

router = APIRouter()
router.include_router(v1beta1_core.router)
router.include_router(v1beta1_runs.router)
