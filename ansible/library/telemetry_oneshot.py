#!/usr/bin/python
"""Ansible module: run a one-shot container to completion (bootstrap, db sync, registration)."""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    run_module,
)

with contextlib.suppress(ImportError):  # engine_client() reports a missing SDK
    import docker.errors
    import requests.exceptions

DOCUMENTATION = r"""
module: telemetry_oneshot
short_description: Run a container to completion and report its exit code and last log lines
description:
  - Removes a leftover container of the same name, runs the image with the given command,
    environment and volumes, waits for it to exit, removes it, and fails with the exit code
    and the last log lines when it did not exit 0.
  - Talks to the Docker API (podman's compatible socket by default) through the docker SDK.
options:
  name: {type: str, required: true}
  image: {type: str, required: true}
  command: {type: raw, description: string (split like a shell) or list}
  entrypoint: {type: raw, description: string or list}
  environment: {type: dict, default: {}}
  volumes: {type: list, elements: str, default: [], description: "src:dest[:ro]"}
  network: {type: str, default: host}
  user: {type: str}
  timeout: {type: int, default: 600, description: seconds to wait for the exit}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""

RETURN = r"""
rc: {description: the container's exit code, type: int}
log_tail: {description: the last log lines, type: list}
"""

_LOG_LINES = 30


@dataclass(frozen=True)
class OneShot:
    name: str
    image: str
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    network: str = "host"
    user: str | None = None
    timeout: int = 600


@dataclass(frozen=True)
class OneShotResult:
    rc: int
    log_tail: list[str]


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def _mounts(volumes: list[str]) -> dict[str, dict[str, str]]:
    mounts = {}
    for spec in volumes:
        parts = spec.split(":")
        mode = parts[2] if len(parts) > 2 else "rw"
        mounts[parts[0]] = {"bind": parts[1], "mode": mode}
    return mounts


def run_oneshot(client: Any, job: OneShot) -> OneShotResult:
    with contextlib.suppress(docker.errors.NotFound):
        client.containers.get(job.name).remove(force=True)
    container = client.containers.run(
        job.image, command=job.command, entrypoint=job.entrypoint, name=job.name, detach=True,
        environment={k: str(v) for k, v in job.environment.items()},
        volumes=_mounts(job.volumes), network_mode=job.network if job.network == "host" else None,
        network=None if job.network == "host" else job.network, user=job.user)
    try:
        status = container.wait(timeout=job.timeout)
        logs = container.logs().decode(errors="replace").splitlines()
    finally:
        container.remove(force=True)
    return OneShotResult(rc=int(status.get("StatusCode", 1)), log_tail=logs[-_LOG_LINES:])


def job_from_params(params: dict[str, Any]) -> OneShot:
    return OneShot(name=params["name"], image=params["image"],
                   command=_as_list(params["command"]), entrypoint=_as_list(params["entrypoint"]),
                   environment=params["environment"], volumes=params["volumes"],
                   network=params["network"], user=params["user"], timeout=params["timeout"])


def run(params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """The module's result, or ModuleError with the exit code and last log lines."""
    if check_mode:
        return {"changed": True, "rc": 0, "log_tail": []}
    job = job_from_params(params)
    client = engine_client(params["engine_url"], timeout=job.timeout)
    try:
        result = run_oneshot(client, job)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ModuleError(f"{job.name}: could not run {job.image}: {exc}. Is the image built "
                          "(telemetry-build)?") from exc
    finally:
        client.close()
    if result.rc != 0:
        raise ModuleError(f"{job.name} exited {result.rc}; last log lines:\n"
                          + "\n".join(result.log_tail), rc=result.rc, log_tail=result.log_tail)
    return {"changed": True, "rc": result.rc, "log_tail": result.log_tail}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "image": {"type": "str", "required": True},
            "command": {"type": "raw"},
            "entrypoint": {"type": "raw"},
            "environment": {"type": "dict", "default": {}},
            "volumes": {"type": "list", "elements": "str", "default": []},
            "network": {"type": "str", "default": "host"},
            "user": {"type": "str"},
            "timeout": {"type": "int", "default": 600},
            "engine_url": ENGINE_URL_OPTION,
        },
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
