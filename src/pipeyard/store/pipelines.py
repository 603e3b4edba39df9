"""Pipelines and their versions."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from pipeyard.entities import ListQuery, Page, Pipeline, PipelineVersion
from pipeyard.errors import AlreadyExists, FailedPrecondition, NotFound
from pipeyard.store.convert import to_entity, to_row, with_id
from pipeyard.store.db import StoreBase
from pipeyard.store.listing import Listing, fetch_page
from pipeyard.store.schema import pipeline_versions, pipelines

PIPELINES = Listing.of(pipelines, "pipeline_id")
VERSIONS = Listing.of(pipeline_versions, "version_id", {"pipeline_version_id": "version_id"})


class PipelineStore(StoreBase):
    # ------------------------------------------------------------------ pipelines

    def create_pipeline(self, pipeline: Pipeline) -> Pipeline:
        pipeline = with_id(pipeline, "pipeline_id")
        with self._write(conflict=AlreadyExists("pipeline", pipeline.name)) as conn:
            self._insert_pipeline(conn, pipeline)
        return pipeline

    def create_pipeline_with_version(
        self, pipeline: Pipeline, version: PipelineVersion
    ) -> tuple[Pipeline, PipelineVersion]:
        """Both or neither: KFP's upload creates a pipeline and its first version at once."""
        pipeline = with_id(pipeline, "pipeline_id")
        version = with_id(version, "version_id")
        version = dataclasses.replace(version, pipeline_id=pipeline.pipeline_id)
        with self._write(conflict=AlreadyExists("pipeline", pipeline.name)) as conn:
            self._insert_pipeline(conn, pipeline)
            conn.execute(sa.insert(pipeline_versions).values(to_row(version)))
        return pipeline, version

    def _insert_pipeline(self, conn: sa.Connection, pipeline: Pipeline) -> None:
        taken = conn.execute(
            sa.select(pipelines.c.pipeline_id).where(
                pipelines.c.namespace == pipeline.namespace, pipelines.c.name == pipeline.name
            )
        ).first()
        if taken is not None:
            raise AlreadyExists("pipeline", pipeline.name)
        conn.execute(sa.insert(pipelines).values(to_row(pipeline)))

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        with self._read() as conn:
            stmt = sa.select(pipelines).where(pipelines.c.pipeline_id == pipeline_id)
            return to_entity(Pipeline, self._one(conn, stmt, "pipeline", pipeline_id))

    def get_pipeline_by_name(self, name: str, namespace: str = "") -> Pipeline:
        with self._read() as conn:
            stmt = sa.select(pipelines).where(pipelines.c.name == name, pipelines.c.namespace == namespace)
            return to_entity(Pipeline, self._one(conn, stmt, "pipeline", name))

    def list_pipelines(self, query: ListQuery = ListQuery(), namespace: str | None = "") -> Page:
        """``namespace=None`` lists every namespace."""
        scope = [] if namespace is None else [pipelines.c.namespace == namespace]
        with self._read() as conn:
            page = fetch_page(conn, PIPELINES, query, scope=scope, scope_key=f"ns={namespace}")
        return Page([to_entity(Pipeline, r) for r in page.rows], page.total_size, page.next_page_token)

    def delete_pipeline(self, pipeline_id: str, cascade: bool = False) -> None:
        """Without ``cascade`` a pipeline that still has versions is kept (KFP's rule)."""
        with self._write() as conn:
            if not self._exists(conn, pipelines, "pipeline_id", pipeline_id):
                raise NotFound("pipeline", pipeline_id)
            has_versions = self._exists(conn, pipeline_versions, "pipeline_id", pipeline_id)
            if has_versions and not cascade:
                raise FailedPrecondition(
                    f"pipeline {pipeline_id!r} still has versions; delete them first or cascade"
                )
            conn.execute(sa.delete(pipeline_versions).where(pipeline_versions.c.pipeline_id == pipeline_id))
            conn.execute(sa.delete(pipelines).where(pipelines.c.pipeline_id == pipeline_id))

    # ------------------------------------------------------------------ versions

    def create_pipeline_version(self, version: PipelineVersion) -> PipelineVersion:
        version = with_id(version, "version_id")
        with self._write(conflict=AlreadyExists("pipeline version", version.name)) as conn:
            if not self._exists(conn, pipelines, "pipeline_id", version.pipeline_id):
                raise NotFound("pipeline", version.pipeline_id)
            taken = conn.execute(
                sa.select(pipeline_versions.c.version_id).where(
                    pipeline_versions.c.pipeline_id == version.pipeline_id,
                    pipeline_versions.c.name == version.name,
                )
            ).first()
            if taken is not None:
                raise AlreadyExists("pipeline version", version.name)
            conn.execute(sa.insert(pipeline_versions).values(to_row(version)))
        return version

    def get_pipeline_version(self, version_id: str) -> PipelineVersion:
        with self._read() as conn:
            stmt = sa.select(pipeline_versions).where(pipeline_versions.c.version_id == version_id)
            return to_entity(PipelineVersion, self._one(conn, stmt, "pipeline version", version_id))

    def list_pipeline_versions(
        self, pipeline_id: str, query: ListQuery = ListQuery(), *, include_pipeline_spec: bool = True
    ) -> Page:
        """Versions of one pipeline. Without ``include_pipeline_spec`` the (large)
        specs are not read and come back as empty dicts."""
        columns = None
        if not include_pipeline_spec:
            columns = [c for c in pipeline_versions.columns if c.name != "pipeline_spec"]
        with self._read() as conn:
            if not self._exists(conn, pipelines, "pipeline_id", pipeline_id):
                raise NotFound("pipeline", pipeline_id)
            page = fetch_page(
                conn,
                VERSIONS,
                query,
                scope=[pipeline_versions.c.pipeline_id == pipeline_id],
                scope_key=f"pipeline={pipeline_id}",
                columns=columns,
            )
        extra: dict[str, Any] = {} if include_pipeline_spec else {"pipeline_spec": {}}
        items = [to_entity(PipelineVersion, r, **extra) for r in page.rows]
        return Page(items, page.total_size, page.next_page_token)

    def delete_pipeline_version(self, version_id: str) -> None:
        with self._write() as conn:
            result = conn.execute(
                sa.delete(pipeline_versions).where(pipeline_versions.c.version_id == version_id)
            )
            if result.rowcount == 0:
                raise NotFound("pipeline version", version_id)

    def latest_pipeline_version(self, pipeline_id: str) -> PipelineVersion | None:
        """The newest version, or None when the pipeline has none."""
        with self._read() as conn:
            if not self._exists(conn, pipelines, "pipeline_id", pipeline_id):
                raise NotFound("pipeline", pipeline_id)
            row = (
                conn.execute(
                    sa.select(pipeline_versions)
                    .where(pipeline_versions.c.pipeline_id == pipeline_id)
                    .order_by(pipeline_versions.c.created_at.desc(), pipeline_versions.c.version_id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return None if row is None else to_entity(PipelineVersion, row)
