#!/usr/bin/python
"""Ansible module: wait until containers' healthchecks pass; fail with the last log lines.

One call waits for all the containers of a service, one after the other: a module start-up per
service rather than per container keeps a no-change deploy quick.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.health import last_log_lines, wait_healthy
from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    run_module,
)

with contextlib.suppress(ImportError):  # engine_client() reports a missing SDK
    import docker.errors

DOCUMENTATION = r"""
module: telemetry_wait_healthy
short_description: Run a container's healthcheck until it passes
description:
  - podman without systemd never runs healthchecks on a timer, so this module runs the
    container's configured healthcheck inside it until it passes or the timeout ends.
  - On failure it names the container and returns its last log lines.
options:
  names: {type: list, elements: str, required: true, description: containers to wait for}
  timeout: {type: int, default: 120}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""


def wait_all(client: Any, names: list[str], timeout: int) -> dict[str, Any]:
    """Each container in turn until healthy; ModuleError with its last log lines if not."""
    health = {}
    for name in names:
        try:
            container = client.containers.get(name)
        except docker.errors.NotFound:
            raise ModuleError(f"container {name} does not exist: deploy it first") from None
        result = wait_healthy(container, timeout)
        if result.health not in ("healthy", "none"):
            logs = last_log_lines(container)
            raise ModuleError(f"{name} is not healthy after {timeout}s ({result.state}, "
                              f"{result.detail}); last log lines:\n" + "\n".join(logs),
                              log_tail=logs, container=name)
        health[name] = result.health
    return {"changed": False, "health": health}


def run(params: dict[str, Any]) -> dict[str, Any]:
    if not params["names"]:
        # Nothing to wait for: no engine needed (a service whose containers are all disabled).
        return {"changed": False, "health": {}}
    client = engine_client(params["engine_url"])
    try:
        return wait_all(client, params["names"], params["timeout"])
    finally:
        client.close()


def main() -> None:
    module = AnsibleModule(
        argument_spec={"names": {"type": "list", "elements": "str", "required": True},
                       "timeout": {"type": "int", "default": 120},
                       "engine_url": ENGINE_URL_OPTION},
        supports_check_mode=True)
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
