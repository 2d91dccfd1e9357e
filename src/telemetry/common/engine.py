"""The container engine, reached through the Docker API (podman's compatible socket or Docker)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from telemetry.image.options import DEFAULT_ENGINE_URL

_PODMAN_LOG = Path("/run/podman/podman-service.log")


class EngineUnreachable(RuntimeError):
    """No Docker API answers at the URL; the message says how to start one."""


def connect(url: str, timeout: int = 3600) -> docker.DockerClient:
    """A client that answered a ping; starts podman's service first when the default is absent."""
    client = _try_connect(url, timeout)
    if client is not None:
        return client
    if url == DEFAULT_ENGINE_URL and shutil.which("podman"):
        start_podman_service(url)
        for _ in range(50):
            client = _try_connect(url, timeout)
            if client is not None:
                return client
            time.sleep(0.2)
    raise EngineUnreachable(
        f"no container engine answers at {url}. Start podman's Docker-compatible API with\n"
        f"  mkdir -p /run/podman && podman system service --time=0 {DEFAULT_ENGINE_URL} &\n"
        f"or point --engine-url at a Docker socket (unix:///var/run/docker.sock).")


def start_podman_service(url: str) -> None:
    socket_path = Path(url.removeprefix("unix://"))
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    with _PODMAN_LOG.open("a") as log:
        subprocess.Popen(["podman", "system", "service", "--time=0", url],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)


def _try_connect(url: str, timeout: int) -> docker.DockerClient | None:
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
        return None
    return client


def local_name(reference: str) -> str:
    """podman reports images as localhost/<name> or docker.io/<name>; Docker does not."""
    for prefix in ("localhost/", "docker.io/library/", "docker.io/"):
        if reference.startswith(prefix):
            return reference.removeprefix(prefix)
    return reference
