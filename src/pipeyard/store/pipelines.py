"""Pipelines and their versions."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from pipeyard.entities import ListQuery, Page, Pipeline, PipelineVersion
from pipeyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from pipeyard.store.convert import to_entity, to_row, with_id
from pipeyard.store.db import StoreBase
from pipeyard.store.listing import Listing, fetch_page
from pipeyard.store.schema import pipeline_tags, pipeline_version_tags, pipeline_versions, pipelines
from pipeyard.store.tags import check_tags, delete_tags, read_tags, split_tag_filters, write_tags

PIPELINES = Listing.of(pipelines, "pipeline_id")
VERSIONS = Listing.of(pipeline_versions, "version_id", {"pipeline_version_id": "version_id"})


MAX_DISPLAY_NAME = 255  # the NAME columns' length


def _check_display_name(display_name: str | None, field: str) -> None:
    if display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidArgument(f"at most {MAX_DISPLAY_NAME} characters", field=field)


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
            self._insert_version(conn, version)
        return pipeline, version

    def _insert_pipeline(self, conn: sa.Connection, pipeline: Pipeline) -> None:
        taken = conn.execute(
            sa.select(pipelines.c.pipeline_id).where(
                pipelines.c.namespace == pipeline.namespace, pipelines.c.name == pipeline.name
            )
        ).first()
        if taken is not None:
            raise AlreadyExists("pipeline", pipeline.name)
        row = to_row(pipeline)
        tags = row.pop("tags")
        conn.execute(sa.insert(pipelines).values(row))
        write_tags(conn, pipeline_tags, pipeline.pipeline_id, check_tags(tags))

    def _insert_version(self, conn: sa.Connection, version: PipelineVersion) -> None:
        row = to_row(version)
        tags = row.pop("tags")
        conn.execute(sa.insert(pipeline_versions).values(row))
        write_tags(conn, pipeline_version_tags, version.version_id, check_tags(tags))

    def _pipeline(self, conn: sa.Connection, row: Any) -> Pipeline:
        tags = read_tags(conn, pipeline_tags, [row["pipeline_id"]])[row["pipeline_id"]]
        return to_entity(Pipeline, row, tags=tags)

    def _version(self, conn: sa.Connection, row: Any, **extra: Any) -> PipelineVersion:
        tags = read_tags(conn, pipeline_version_tags, [row["version_id"]])[row["version_id"]]
        return to_entity(PipelineVersion, row, tags=tags, **extra)

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        with self._read() as conn:
            stmt = sa.select(pipelines).where(pipelines.c.pipeline_id == pipeline_id)
            return self._pipeline(conn, self._one(conn, stmt, "pipeline", pipeline_id))

    def get_pipeline_by_name(self, name: str, namespace: str = "") -> Pipeline:
        with self._read() as conn:
            stmt = sa.select(pipelines).where(pipelines.c.name == name, pipelines.c.namespace == namespace)
            return self._pipeline(conn, self._one(conn, stmt, "pipeline", name))

    def list_pipelines(self, query: ListQuery = ListQuery(), namespace: str | None = "") -> Page:
        """``namespace=None`` lists every namespace; ``tags.<key>`` predicates filter by tag."""
        query, scope, tag_key = split_tag_filters(query, pipeline_tags, pipelines.c.pipeline_id)
        if namespace is not None:
            scope.append(pipelines.c.namespace == namespace)
        with self._read() as conn:
            page = fetch_page(conn, PIPELINES, query, scope=scope, scope_key=f"ns={namespace};tags={tag_key}")
            tags = read_tags(conn, pipeline_tags, [r["pipeline_id"] for r in page.rows])
        items = [to_entity(Pipeline, r, tags=tags[r["pipeline_id"]]) for r in page.rows]
        return Page(items, page.total_size, page.next_page_token)

    def update_pipeline(
        self, pipeline_id: str, *, display_name: str | None = None, tags: dict[str, str] | None = None
    ) -> Pipeline:
        """KFP's UpdatePipeline: a non-empty ``display_name`` renames, ``tags`` (when not
        None) replaces all tags; ``{}`` clears them."""
        _check_display_name(display_name, "pipeline.display_name")
        with self._write() as conn:
            if not self._exists(conn, pipelines, "pipeline_id", pipeline_id):
                raise NotFound("pipeline", pipeline_id)
            if display_name:
                conn.execute(
                    sa.update(pipelines).where(pipelines.c.pipeline_id == pipeline_id)
                    .values(display_name=display_name)
                )
            if tags is not None:
                write_tags(conn, pipeline_tags, pipeline_id, check_tags(tags))
        return self.get_pipeline(pipeline_id)

    def update_pipeline_version(
        self, version_id: str, *, display_name: str | None = None, tags: dict[str, str] | None = None
    ) -> PipelineVersion:
        """UpdatePipelineVersion, with the same rules as ``update_pipeline``."""
        _check_display_name(display_name, "pipeline_version.display_name")
        with self._write() as conn:
            if not self._exists(conn, pipeline_versions, "version_id", version_id):
                raise NotFound("pipeline version", version_id)
            if display_name:
                conn.execute(
                    sa.update(pipeline_versions).where(pipeline_versions.c.version_id == version_id)
                    .values(display_name=display_name)
                )
            if tags is not None:
                write_tags(conn, pipeline_version_tags, version_id, check_tags(tags))
        return self.get_pipeline_version(version_id)

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
            versions = sa.select(pipeline_versions.c.version_id).where(pipeline_versions.c.pipeline_id == pipeline_id)
            delete_tags(conn, pipeline_version_tags, conn.execute(versions).scalars())
            delete_tags(conn, pipeline_tags, [pipeline_id])
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
            self._insert_version(conn, version)
        return version

    def get_pipeline_version(self, version_id: str) -> PipelineVersion:
        with self._read() as conn:
            stmt = sa.select(pipeline_versions).where(pipeline_versions.c.version_id == version_id)
            return self._version(conn, self._one(conn, stmt, "pipeline version", version_id))

    def list_pipeline_versions(
        self, pipeline_id: str, query: ListQuery = ListQuery(), *, include_pipeline_spec: bool = True
    ) -> Page:
        """Versions of one pipeline. Without ``include_pipeline_spec`` the (large)
        specs are not read and come back as empty dicts."""
        columns = None
        if not include_pipeline_spec:
            columns = [c for c in pipeline_versions.columns if c.name != "pipeline_spec"]
        query, scope, tag_key = split_tag_filters(query, pipeline_version_tags, pipeline_versions.c.version_id)
        with self._read() as conn:
            if not self._exists(conn, pipelines, "pipeline_id", pipeline_id):
                raise NotFound("pipeline", pipeline_id)
            page = fetch_page(
                conn,
                VERSIONS,
                query,
                scope=[pipeline_versions.c.pipeline_id == pipeline_id, *scope],
                scope_key=f"pipeline={pipeline_id};tags={tag_key}",
                columns=columns,
            )
            tags = read_tags(conn, pipeline_version_tags, [r["version_id"] for r in page.rows])
        extra: dict[str, Any] = {} if include_pipeline_spec else {"pipeline_spec": {}}
        items = [to_entity(PipelineVersion, r, tags=tags[r["version_id"]], **extra) for r in page.rows]
        return Page(items, page.total_size, page.next_page_token)

    def delete_pipeline_version(self, version_id: str) -> None:
        with self._write() as conn:
            delete_tags(conn, pipeline_version_tags, [version_id])
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
            return None if row is None else self._version(conn, row)
