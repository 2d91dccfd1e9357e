"""The container engine, reached through the Docker API (podman's compatible socket or Docker).

The one engine client of the project: the CLIs and the Ansible modules (through
``ansible/module_utils/telemetry_common``) both connect here. It imports only the standard
library, the docker SDK and its siblings, relatively, so it also runs on a managed host where
this project is not installed; there a missing docker SDK is reported, not a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from .errors import Unavailable

try:
    import docker
    import docker.errors
    import requests.exceptions
except ImportError as _error:  # only on a managed host without the SDK: connect() says so
    DOCKER_IMPORT_ERROR: ImportError | None = _error
else:
    DOCKER_IMPORT_ERROR = None

DEFAULT_ENGINE_URL = "unix:///run/podman/podman.sock"
_PODMAN_LOG = Path("/run/podman/podman-service.log")


class EngineUnreachable(Unavailable):
    """No Docker API answers at the URL; the message says how to start one."""


class DockerSdkMissing(Unavailable):
    """The docker Python SDK is not importable by this interpreter."""


def connect(url: str = DEFAULT_ENGINE_URL, timeout: int = 3600, *, start_podman: bool = True,
            option: str = "--engine-url") -> docker.DockerClient:
    """A client that answered a ping.

    With ``start_podman`` the default socket's podman service is started when it is absent
    (the CLIs); modules pass False, since a service spawned by a module outlives the play
    unseen. ``option`` names the setting the error message tells the operator to change.
    """
    require_sdk()
    client, error = _try_connect(url, timeout)
    if client is not None:
        return client
    if start_podman and url == DEFAULT_ENGINE_URL and shutil.which("podman"):
        start_podman_service(url)
        for _ in range(50):
            client, error = _try_connect(url, timeout)
            if client is not None:
                return client
            time.sleep(0.2)
    raise EngineUnreachable(
        f"no container engine answers at {url} ({error}). Start podman's Docker-compatible "
        f"API with\n  mkdir -p /run/podman && podman system service --time=0 "
        f"{DEFAULT_ENGINE_URL} &\nor point {option} at a Docker socket "
        "(unix:///var/run/docker.sock).")


def require_sdk() -> None:
    if DOCKER_IMPORT_ERROR is not None:
        raise DockerSdkMissing(
            f"the docker Python SDK is not importable ({DOCKER_IMPORT_ERROR}): pip install "
            "'docker>=7' into this Python (for Ansible: the one ansible_python_interpreter "
            "points at)")


def start_podman_service(url: str) -> None:
    socket_path = Path(url.removeprefix("unix://"))
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    with _PODMAN_LOG.open("a") as log:
        # cwd "/": the service outlives this CLI, and conmon fails every container start
        # ("write child: broken pipe") once the directory it was started from is removed.
        subprocess.Popen(["podman", "system", "service", "--time=0", url],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd="/")


def _try_connect(url: str, timeout: int) -> tuple[docker.DockerClient | None, Exception | None]:
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as err:
        return None, err
    return client, None


def local_name(reference: str) -> str:
    """podman reports images as localhost/<name> or docker.io/<name>; Docker does not."""
    for prefix in ("localhost/", "docker.io/library/", "docker.io/"):
        if reference.startswith(prefix):
            return reference.removeprefix(prefix)
    return reference
