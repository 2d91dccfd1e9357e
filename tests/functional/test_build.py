"""telemetry-build against podman for real: every image, incremental rebuilds, failures, push."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import docker
import pytest

from telemetry.image.render import HASH_LABEL
from tests.conftest import IMAGE_TAG
from tests.functional.conftest import build, listed_hashes


@pytest.fixture(scope="module")
def all_images(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Build every image of the default profile (incremental: present hashes are skipped)."""
    code, summary, output = build(tmp_path_factory.mktemp("all"), "--threads", "4")
    assert code == 0, output
    return summary


def test_every_listed_image_is_in_podman_with_its_hash(all_images: dict,
                                                       engine: docker.DockerClient) -> None:
    for name, content_hash in listed_hashes().items():
        image = engine.images.get(f"telemetry/{name}:{IMAGE_TAG}")
        assert image.labels[HASH_LABEL] == content_hash, name


def test_rerun_with_nothing_changed_skips_every_image(all_images: dict, tmp_path: Path) -> None:
    code, summary, output = build(tmp_path)
    assert code == 0, output
    assert summary["built"] == []
    assert sorted(summary["skipped"]) == sorted(listed_hashes())


def test_one_leaf_changed_rebuilds_only_that_leaf(all_images: dict, tmp_path: Path,
                                                  engine: docker.DockerClient) -> None:
    override = tmp_path / "override.j2"
    token = uuid.uuid4().hex  # new content every run, so it is really built
    override.write_text("{% extends parent_template %}\n"
                        f"{{% block nginx_footer %}}RUN echo {token} > /etc/leaf-marker"
                        "{% endblock %}\n")
    code, summary, output = build(tmp_path, "--template-override", str(override))
    assert code == 0, output
    assert summary["built"] == ["nginx"]
    assert "nginx" not in summary["skipped"] and "base" in summary["skipped"]
    marker = engine.containers.run(f"telemetry/nginx:{IMAGE_TAG}", entrypoint=["cat"],
                                   command=["/etc/leaf-marker"], remove=True)
    assert marker.strip() == token.encode()
    # Back to the plain template: the earlier image is still there, so it is re-tagged, not built.
    code, summary, output = build(tmp_path)
    assert code == 0, output
    assert summary["built"] == []
    assert "nginx                      skipped (hash" in output and "re-tagged" in output
    image = engine.images.get(f"telemetry/nginx:{IMAGE_TAG}")
    assert image.labels[HASH_LABEL] == listed_hashes()["nginx"]


def test_failed_image_marks_descendants_and_names_its_log(all_images: dict,
                                                          tmp_path: Path) -> None:
    override = tmp_path / "broken.j2"
    override.write_text("{% extends parent_template %}\n"
                        "{% block gnocchi_base_footer %}RUN exit 42{% endblock %}\n")
    code, summary, output = build(tmp_path, "--template-override", str(override), "--retries",
                                  "0", "--tag", "broken", "gnocchi", "redis")
    assert code == 1
    assert summary["failed"] == ["gnocchi-base"]
    assert sorted(summary["parent-failed"]) == ["gnocchi-api", "gnocchi-metricd"]
    assert "redis" in summary["built"] + summary["skipped"]
    log = tmp_path / "logs" / "gnocchi-base.log"
    assert f"read the failed build logs: {log}" in output
    assert "exit 42" in log.read_text() or "42" in log.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def registry(tmp_path: Path):
    """Debian's docker-registry serving on a loopback port, storage in tmp_path."""
    port = _free_port()
    config = tmp_path / "registry.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path}/data\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    process = subprocess.Popen(["docker-registry", "serve", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield address
    process.terminate()
    process.wait(timeout=10)


def test_push_to_a_real_registry(all_images: dict, tmp_path: Path, registry: str) -> None:
    code, summary, output = build(tmp_path, "--push", "--registry", registry, "^memcached$")
    assert code == 0, output
    assert summary["built"] == [], "same content hash: re-tagged, not rebuilt"
    with urllib.request.urlopen(f"http://{registry}/v2/telemetry/memcached/tags/list") as reply:
        assert f'"{IMAGE_TAG}"'.encode() in reply.read()
