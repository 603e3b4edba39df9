"""A remote pipeline root (s3://) against a real S3 endpoint on loopback (moto's
server): artifacts are staged locally for the executor, uploaded after each task
and recorded with their s3:// URIs; caching sees changed remote data."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import contextlib
import dataclasses
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import moto.server  # noqa: F401  (a dev dependency: missing fails, never skips)
import pytest
import s3fs
from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Metrics, Output
from tests.integration.conftest import free_port
from tests.support.pipeline_runs import EngineHarness, compile_pipeline

BUCKET = "bucket"
ROOT = f"s3://{BUCKET}/root"
IMPORTED = f"s3://{BUCKET}/imports/data.txt"
# Guards against a hung moto server, not a performance assertion.
READY_DEADLINE_SECONDS = 30.0


@dataclasses.dataclass
class S3:
    endpoint: str
    env: dict[str, str]

    def fs(self) -> Any:
        # A fresh instance each time: fsspec caches instances and their listings.
        return s3fs.S3FileSystem(skip_instance_cache=True)


def _moto_command(port: int) -> list[str]:
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    base = [exe] if exe else [sys.executable, "-m", "moto.server"]
    return [*base, "-H", "127.0.0.1", "-p", str(port)]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    proc = subprocess.Popen(_moto_command(port), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        # botocore (and so s3fs) takes the endpoint from here.
        "AWS_ENDPOINT_URL": endpoint,
    }
    patch = pytest.MonkeyPatch()
    try:
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(endpoint, timeout=1)
                break
            if time.monotonic() > deadline:
                pytest.fail("moto server did not start")
            time.sleep(0.1)
        for k, v in env.items():
            patch.setenv(k, v)
        s3fs.S3FileSystem.clear_instance_cache()
        server = S3(endpoint, env)
        server.fs().mkdir(BUCKET)
        yield server
    finally:
        patch.undo()
        s3fs.S3FileSystem.clear_instance_cache()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, s3: S3) -> Iterator[EngineHarness]:
    harness = EngineHarness(tmp_path_factory.mktemp("remote-home"))
    # As PIPEYARD_PIPELINE_ROOT=s3://bucket/root would set it.
    harness.settings = dataclasses.replace(harness.settings, pipeline_root=ROOT)
    try:
        yield harness
    finally:
        harness.close()


# ---------------------------------------------------------------- the pipeline


@dsl.component
def produce(text: str, data: Output[Dataset], metrics: Output[Metrics]) -> None:
    with open(data.path, "w") as f:
        f.write(text)
    metrics.log_metric("length", len(text))


@dsl.component
def consume(data: Input[Dataset]) -> str:
    with open(data.path) as f:
        return f.read()


@dsl.container_component
def write_tree(text: str, tree: Output[Artifact]):  # type: ignore[no-untyped-def]
    # A directory artifact with a nested file: uploads and downloads are recursive.
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'mkdir -p "$0/sub" && printf %s "$1" > "$0/a.txt" && printf %s "$1$1" > "$0/sub/b.txt"'],
        args=[tree.path, text],
    )


@dsl.component
def read_tree(tree: Input[Artifact]) -> str:
    import os

    parts = []
    for root, dirs, files in os.walk(tree.path):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path) as f:
                parts.append(f"{os.path.relpath(path, tree.path)}={f.read()}")
    return ";".join(parts)


@dsl.pipeline(name="remote-root")
def remote_root(text: str, src: str) -> None:
    made = produce(text=text)
    consume(data=made.outputs["data"])
    tree = write_tree(text=text)
    read_tree(tree=tree.outputs["tree"])
    imported = dsl.importer(artifact_uri=src, artifact_class=Dataset, reimport=False)
    consume(data=imported.output).set_display_name("consume-imported")


@pytest.fixture(scope="module")
def pipeline_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(remote_root, tmp_path_factory.mktemp("p") / "remote_root.yaml")


def _uri(result: Any, task: str, output: str) -> str:
    arts = result.artifacts(task, output)
    assert len(arts) == 1, arts
    return str(arts[0]["uri"])


def _outputs(result: Any, task: str) -> dict[str, Any]:
    return dict((result.one(task).outputs or {}).get("parameters") or {})


def _by_display(result: Any, display_name: str) -> Any:
    found = [t for t in result.tasks if t.display_name == display_name]
    assert len(found) == 1, [t.display_name for t in result.tasks]
    return found[0]


# ---------------------------------------------------------------- tests


def test_artifacts_go_to_the_bucket_and_caching_sees_remote_changes(
    engine: EngineHarness, s3: S3, pipeline_yaml: Path
) -> None:
    fs = s3.fs()
    fs.pipe(IMPORTED, b"imported v1")
    args = {"text": "hello", "src": IMPORTED}

    first = engine.run(pipeline_yaml, args, caching=True)
    assert first.state == "SUCCEEDED", first.run.error
    assert first.run.pipeline_root == ROOT

    # Recorded URIs are remote, and the objects are in the bucket.
    data_uri = _uri(first, "produce", "data")
    tree_uri = _uri(first, "write-tree", "tree")
    metrics_uri = _uri(first, "produce", "metrics")
    for uri in (data_uri, tree_uri, metrics_uri):
        assert uri.startswith(f"{ROOT}/remote-root/{first.run.run_id}/"), uri
    assert fs.cat(data_uri) == b"hello"
    assert fs.cat(f"{tree_uri}/a.txt") == b"hello"
    assert fs.cat(f"{tree_uri}/sub/b.txt") == b"hellohello"
    assert first.artifacts("produce", "metrics")[0]["metadata"] == {"length": 5.0}
    # The importer records the URI it was given (by reference).
    assert _uri(first, "importer", "artifact") == IMPORTED
    stored = first.store.list_artifacts(run_id=first.run.run_id).items
    assert stored and all(a.uri.startswith("s3://") for a in stored), [a.uri for a in stored]
    # Remote data has a content identity (from the store's metadata) for caching.
    assert all(a.digest for a in stored if a.name != "metrics"), [(a.name, a.digest) for a in stored]

    # Consumers read the data through their local staging copies.
    assert _outputs(first, "consume")["Output"] == "hello"
    assert _outputs(first, "read-tree")["Output"] == "a.txt=hello;sub/b.txt=hellohello"
    assert (_by_display(first, "consume-imported").outputs or {})["parameters"]["Output"] == "imported v1"
    # Staged copies go once the run is over.
    assert not (engine.settings.home / "staging" / first.run.run_id).exists()

    second = engine.run(pipeline_yaml, args, caching=True)
    assert second.state == "SUCCEEDED", second.run.error
    leaves = [t for t in second.tasks if t.kind in ("CONTAINER", "IMPORTER")]
    assert leaves and all(t.cached for t in leaves), [(t.display_name, t.cached) for t in leaves]

    # New content under the same imported URI: the importer and its consumer run
    # again and see it; everything else is still a cache hit.
    fs.pipe(IMPORTED, b"imported v2")
    third = engine.run(pipeline_yaml, args, caching=True)
    assert third.state == "SUCCEEDED", third.run.error
    imported_consumer = _by_display(third, "consume-imported")
    assert imported_consumer.cached is False
    assert (imported_consumer.outputs or {})["parameters"]["Output"] == "imported v2"
    assert third.one("importer").cached is False
    assert third.one("consume").cached is True
    assert third.one("read-tree").cached is True


@dsl.pipeline(name="cross-run")
def cross_run(text: str) -> None:
    made = produce(text=text)
    consume(data=made.outputs["data"]).set_caching_options(False)


def test_a_consumer_downloads_what_an_earlier_run_uploaded(
    engine: EngineHarness, s3: S3, tmp_path: Path
) -> None:
    """The producer hits the cache, so its outputs are the first run's objects; the
    consumer runs again and fetches them from the bucket."""
    yaml = compile_pipeline(cross_run, tmp_path / "cross_run.yaml")
    first = engine.run(yaml, {"text": "from run one"}, caching=True)
    assert first.state == "SUCCEEDED", first.run.error
    second = engine.run(yaml, {"text": "from run one"}, caching=True)
    assert second.state == "SUCCEEDED", second.run.error
    assert second.one("produce").cached is True
    assert second.one("consume").cached is False
    assert f"/{first.run.run_id}/" in _uri(second, "produce", "data")
    assert _outputs(second, "consume")["Output"] == "from run one"


def test_the_server_reads_remote_artifact_content(engine: EngineHarness, s3: S3, pipeline_yaml: Path) -> None:
    from fastapi.testclient import TestClient

    from pipeyard.server.app import create_app

    s3.fs().pipe(IMPORTED, b"served")
    result = engine.run(pipeline_yaml, {"text": "over http", "src": IMPORTED})
    assert result.state == "SUCCEEDED", result.run.error
    data_id = result.artifacts("produce", "data")[0]["artifact_id"]
    tree_id = result.artifacts("write-tree", "tree")[0]["artifact_id"]
    client = TestClient(create_app(engine.settings, engine.store, start_workers=False), base_url="http://127.0.0.1")
    resp = client.get(f"/apis/pipeyard/v1/artifacts/{data_id}/content")
    assert resp.status_code == 200, resp.text
    assert resp.text == "over http"
    assert resp.headers["X-Content-Size"] == str(len("over http"))
    part = client.get(f"/apis/pipeyard/v1/artifacts/{data_id}/content", params={"max_bytes": 4})
    assert part.text == "over"
    # A directory reads as a listing of its files, as it does for a local root.
    listing = client.get(f"/apis/pipeyard/v1/artifacts/{tree_id}/content")
    assert listing.status_code == 200, listing.text
    assert listing.text.splitlines() == [f"a.txt\t{len('over http')}", f"sub/b.txt\t{2 * len('over http')}"]
    assert listing.headers["content-type"].startswith("text/plain")
    # Outside the pipeline root is refused, remote or not.
    other = engine.store.get_artifact(result.artifacts("importer", "artifact")[0]["artifact_id"])
    assert other.uri == IMPORTED
    assert client.get(f"/apis/pipeyard/v1/artifacts/{other.artifact_id}/content").status_code == 403


# ---------------------------------------------------------------- a scheme without a filesystem


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@dsl.component
def print_uri(data: Input[Dataset]) -> str:
    print(data.uri)
    return data.uri


@dsl.pipeline(name="missing-filesystem")
def missing_filesystem(src: str) -> None:
    imported = dsl.importer(artifact_uri=src, artifact_class=Dataset)
    print_uri(data=imported.output)
    consume(data=imported.output)


@pytest.mark.skipif(_installed("gcsfs"), reason="gcsfs is installed: gs:// has a filesystem here")
def test_a_scheme_without_a_filesystem_fails_only_the_task_that_reads(
    engine: EngineHarness, tmp_path: Path
) -> None:
    uri = "gs://no-such-bucket/data.txt"
    yaml = compile_pipeline(missing_filesystem, tmp_path / "missing_filesystem.yaml")
    result = engine.run(yaml, {"src": uri})
    assert result.state == "FAILED"
    assert _uri(result, "importer", "artifact") == uri
    # Passing the URI on works: the executor gets it unchanged, with a warning.
    printer = result.one("print-uri")
    assert printer.state == "SUCCEEDED", printer.error
    assert _outputs(result, "print-uri")["Output"] == uri
    assert any(uri in w and "gcsfs" in w for w in printer.details["remote_staging"]), printer.details
    # Reading it fails, and says which URI and which package.
    reader = result.one("consume")
    assert reader.state == "FAILED"
    assert reader.error and uri in reader.error and "gcsfs" in reader.error, reader.error


# ---------------------------------------------------------------- staging, directly


def test_staged_copies_are_reused_until_the_remote_data_changes(s3: S3, tmp_path: Path) -> None:
    from pipeyard.artifacts import filesystems
    from pipeyard.engine import staging

    fs = s3.fs()
    uri = f"s3://{BUCKET}/staging-check/dir"
    fs.pipe({f"{uri}/x.txt": b"one", f"{uri}/deep/y.txt": b"two"})
    root = staging.staging_root(tmp_path, "run-1")
    staged = staging.download(root, uri)
    assert staged == root / "s3" / BUCKET / "staging-check" / "dir"
    assert (staged / "x.txt").read_text() == "one" and (staged / "deep" / "y.txt").read_text() == "two"
    digest = filesystems.remote_digest(uri)
    assert digest is not None
    # A local edit stands in for "was not downloaded again".
    (staged / "x.txt").write_text("local")
    assert staging.download(root, uri, digest) == staged
    assert (staged / "x.txt").read_text() == "local"
    assert staging.download(root, uri) == staged  # no known digest: checked against the remote
    assert (staged / "x.txt").read_text() == "local"
    fs.pipe(f"{uri}/x.txt", b"changed")
    changed = filesystems.remote_digest(uri)
    assert changed != digest
    # Within a run the recorded digest is the data's identity: a copy staged under
    # it stays; an artifact recorded with the new digest gets the new data.
    assert staging.download(root, uri, digest) == staged
    assert (staged / "x.txt").read_text() == "local"
    staging.download(root, uri, changed)
    assert (staged / "x.txt").read_text() == "changed"
    with pytest.raises(FileNotFoundError):
        staging.download(root, f"s3://{BUCKET}/staging-check/missing")


def test_a_minio_root_uses_the_s3_filesystem(engine: EngineHarness, s3: S3, tmp_path: Path) -> None:
    """KFP's minio:// URIs name S3 on a MinIO endpoint (AWS_ENDPOINT_URL here)."""
    yaml = compile_pipeline(cross_run, tmp_path / "cross_run.yaml")
    saved = engine.settings
    engine.settings = dataclasses.replace(saved, pipeline_root=f"minio://{BUCKET}/minio-root")
    try:
        result = engine.run(yaml, {"text": "via minio"})
    finally:
        engine.settings = saved
    assert result.state == "SUCCEEDED", result.run.error
    uri = _uri(result, "produce", "data")
    assert uri.startswith(f"minio://{BUCKET}/minio-root/cross-run/")
    assert s3.fs().cat("s3://" + uri[len("minio://"):]) == b"via minio"
    assert _outputs(result, "consume")["Output"] == "via minio"
