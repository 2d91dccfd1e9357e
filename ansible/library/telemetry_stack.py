#!/usr/bin/python
"""Ansible module: the telemetry containers of one host, as a whole (the day-2 actions).

  action=check    run every container's healthcheck once; fail when one is not healthy
  action=stop     stop them, dependents first
  action=destroy  remove them, dependents first, and with volumes also those named volumes

The containers are those carrying the deploy's telemetry.service label, ordered by
service_order (the catalog's dependency order, telemetry_service_order): a container of a
service since removed from the catalog is still found, and goes last.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.health import check_container
from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    run_module,
)
from ansible.module_utils.telemetry_common.stack import SERVICE_LABEL, labelled_containers

with contextlib.suppress(ImportError):  # engine_client() reports a missing SDK
    import docker.errors

DOCUMENTATION = r"""
---
module: telemetry_stack
short_description: Check, stop or destroy the telemetry containers of a host
options:
  action: {type: str, required: true, choices: [check, stop, destroy]}
  service_order: {type: list, elements: str, required: true, description: dependencies first}
  volumes: {type: list, elements: str, default: [], description: named volumes destroy removes}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""

RETURN = r"""
containers: {description: per container, its service, state, health, restarts, detail, type: list}
lines: {description: the same as a table, for the operator, type: list}
"""

STOP_TIMEOUT = 30


@dataclass(frozen=True)
class Row:
    name: str
    service: str
    state: str
    health: str = ""
    restarts: int = 0
    detail: str = ""


def check(containers: list[Any]) -> list[Row]:
    rows = []
    for container in containers:
        health = check_container(container)
        rows.append(Row(health.name, container.labels.get(SERVICE_LABEL, ""), health.state,
                        health.health, health.restarts, health.detail[:60]))
    return rows


def stop(containers: list[Any]) -> list[Row]:
    # Dependents first: metricd and the evaluator hang for 15 s if their backends go first.
    rows = []
    for container in reversed(containers):
        started = time.monotonic()
        container.stop(timeout=STOP_TIMEOUT)
        rows.append(Row(container.name, container.labels.get(SERVICE_LABEL, ""), "stopped",
                        detail=f"{time.monotonic() - started:.1f}s"))
    return rows


def destroy(client: Any, containers: list[Any], volumes: list[str]) -> list[Row]:
    rows = []
    for container in reversed(containers):
        container.remove(force=True)
        rows.append(Row(container.name, container.labels.get(SERVICE_LABEL, ""), "removed"))
    for name in volumes:
        with contextlib.suppress(docker.errors.NotFound):
            client.volumes.get(name).remove(force=True)
            rows.append(Row(name, "", "removed", detail="volume"))
    return rows


def table(rows: list[Row]) -> list[str]:
    lines = [f"{'container':<26} {'service':<14} {'state':<10} {'health':<10} {'restarts':>8}  "
             "detail"]
    lines += [f"{r.name:<26} {r.service:<14} {r.state:<10} {r.health:<10} {r.restarts:>8}  "
              f"{r.detail}" for r in rows]
    return lines


def run(params: dict[str, Any]) -> dict[str, Any]:
    client = engine_client(params["engine_url"])
    try:
        containers = labelled_containers(client, params["service_order"])
        action = params["action"]
        if action == "check":
            rows = check(containers)
        elif action == "stop":
            rows = stop([c for c in containers if c.status == "running"])
        else:
            rows = destroy(client, containers, params["volumes"])
    finally:
        client.close()
    result = {"changed": action != "check" and bool(rows),
              "containers": [asdict(r) for r in rows], "lines": table(rows)}
    if action == "check":
        unhealthy = [r.name for r in rows if r.health not in ("healthy", "none")]
        result["lines"].append(f"{len(rows) - len(unhealthy)} of {len(rows)} containers healthy")
        if not rows:
            raise ModuleError("no telemetry containers on this host: run telemetry-ansible "
                              "deploy", **result)
        if unhealthy:
            raise ModuleError(f"not healthy: {', '.join(unhealthy)}", **result)
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "required": True, "choices": ["check", "stop", "destroy"]},
            "service_order": {"type": "list", "elements": "str", "required": True},
            "volumes": {"type": "list", "elements": "str", "default": []},
            "engine_url": ENGINE_URL_OPTION,
        },
        supports_check_mode=False,
    )
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
