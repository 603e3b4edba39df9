"""A package index on the Ray head for the multi-node test: the worker's namespace
reaches no other network, so ``packages_to_install`` there can only come from here.

The wheel is built by this module from a one-file project (a wheel is a zip archive
with its metadata and a RECORD of hashes, PEP 427), so no build backend or network
is needed; ``python -m http.server`` over ``simple/<name>/`` is a PEP 503 index
(the directory listing is the project page of links).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
from tests.integration.multinode_deployment import kill_group, wait_for
from tests.integration.netns_cluster import Cluster

PACKAGE = "pyprobe-tiny==0.1"
INDEX_PORT = 8090
_FILES = {
    "pyprobe_tiny/__init__.py": 'VALUE = "tiny-ok"\n',
    "pyprobe_tiny-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: pyprobe-tiny\nVersion: 0.1\n",
    "pyprobe_tiny-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: pipeyard-tests\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n",
}


def build_wheel(target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    wheel = target_dir / "pyprobe_tiny-0.1-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in _FILES.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
            archive.writestr(name, data)
        record.append("pyprobe_tiny-0.1.dist-info/RECORD,,")
        archive.writestr("pyprobe_tiny-0.1.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


@contextlib.contextmanager
def serve_index(cluster: Cluster, scratch: Path) -> Iterator[str]:
    """The index's URL, served from the head's address on the worker's side."""
    root = scratch / "index"
    build_wheel(root / "simple" / "pyprobe-tiny")
    proc = cluster.popen(cluster.head_ns, [sys.executable, "-m", "http.server", "--bind", cluster.head_ip,
                                           "--directory", str(root), str(INDEX_PORT)], scratch / "index.log")
    try:
        url = f"http://{cluster.head_ip}:{INDEX_PORT}/simple/"
        wait_for("the package index", lambda: httpx.get(f"{url}pyprobe-tiny/", timeout=2).status_code == 200,
                 scratch / "index.log")
        yield url
    finally:
        kill_group(proc)
