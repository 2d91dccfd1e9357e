#!/usr/bin/python
"""Ansible module: what must hold on one host before a deploy can succeed there.

The host side of telemetry-ansible prechecks (the controller checks the inventory, globals.yml
and passwords.yml itself). Each check gives a line; the module fails, listing every failed
check and what to do, when one does not pass. It changes nothing.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    run_module,
)
from ansible.module_utils.telemetry_common.stack import SERVICE_LABEL

DOCUMENTATION = r"""
---
module: telemetry_host_checks
short_description: Check a host before a deploy (engine, memory, disk, ports, clock, peers)
options:
  listen_addresses: {type: list, elements: str, required: true}
  ports: {type: list, elements: dict, required: true, description: "[{port, container}]"}
  min_memory_gib: {type: float, default: 4}
  min_disk_gib: {type: float, default: 10}
  disk_path: {type: str, default: /var/lib/containers}
  peers: {type: list, elements: str, default: [], description: the other hosts' addresses}
  peer_port: {type: int, default: 22}
  reference_time: {type: float, required: true, description: the controller's clock (epoch)}
  max_clock_skew: {type: float, default: 2}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""

RETURN = r"""
results: {description: "[{name, ok, detail}] per check", type: list}
lines: {description: the same, one line each, type: list}
"""

CONNECT_TIMEOUT = 1.0


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str


def check_engine(engine_url: str) -> tuple[Result, set[str]]:
    """The engine answers; the names of our running containers (their ports are ours)."""
    try:
        client = engine_client(engine_url, timeout=30)
    except ModuleError as err:
        return Result("engine", False, str(err).splitlines()[0]), set()
    try:
        version = client.version().get("Version", "?")
        running = {c.name for c in client.containers.list(filters={"label": SERVICE_LABEL})}
    finally:
        client.close()
    return Result("engine", True, f"{engine_url} answers (version {version})"), running


def check_ports(addresses: list[str], ports: list[dict[str, Any]], ours: set[str],
                in_use: Callable[[str, int], bool]) -> Result:
    busy = sorted({f"{item['port']} ({item['container']})" for item in ports
                   if item["container"] not in ours
                   and any(in_use(address, int(item["port"])) for address in addresses)})
    return Result("ports", not busy, f"in use by something else: {', '.join(busy)}: stop what "
                  "holds them or move the service's port (<name>_port in globals.yml)"
                  if busy else f"{len(ports)} service ports free or ours")


def tcp_open(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.settimeout(CONNECT_TIMEOUT)
        return sock.connect_ex((address, port)) == 0


def check_memory(min_gib: float) -> Result:
    kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemAvailable:"))
    gib = kib / 1024 / 1024
    return Result("memory", gib >= min_gib, f"{gib:.1f} GiB available (need {min_gib:g})")


def check_disk(path: str, min_gib: float) -> Result:
    where = Path(path) if Path(path).exists() else Path("/")
    gib = shutil.disk_usage(where).free / 1024**3
    return Result("disk", gib >= min_gib, f"{gib:.0f} GiB free on {where} (need {min_gib:g})")


def check_clock(reference: float, max_skew: float) -> Result:
    # The controller's time when the task was templated: the skew includes the task's start-up.
    skew = time.time() - reference
    ok = -max_skew <= skew <= max_skew + 30
    return Result("clock", ok, f"{skew:+.1f} s from the controller" + (
        "" if ok else f": more than {max_skew:g} s behind or 30 s ahead; sync the host's time "
                      "(chrony or systemd-timesyncd) before deploying"))


def check_peers(peers: list[str], port: int, reachable: Callable[[str, int], bool]) -> Result:
    unreachable = [peer for peer in peers if not reachable(peer, port)]
    return Result("peers", not unreachable, (
        f"cannot reach {', '.join(unreachable)} on port {port}: check routes and firewalls "
        "between the hosts") if unreachable else f"reaches all {len(peers)} other hosts")


def run(params: dict[str, Any]) -> dict[str, Any]:
    engine, ours = check_engine(params["engine_url"])
    results = [engine,
               check_ports(params["listen_addresses"], params["ports"], ours, tcp_open),
               check_memory(params["min_memory_gib"]),
               check_disk(params["disk_path"], params["min_disk_gib"]),
               check_clock(params["reference_time"], params["max_clock_skew"]),
               check_peers(params["peers"], params["peer_port"], tcp_open)]
    lines = [f"{'ok' if r.ok else 'FAIL':<5} {r.name:<7} {r.detail}" for r in results]
    failed = [r.name for r in results if not r.ok]
    lines.append(f"{len(results) - len(failed)} of {len(results)} host checks passed")
    outcome = {"changed": False, "results": [r.__dict__ for r in results], "lines": lines}
    if failed:
        raise ModuleError(f"failed: {', '.join(failed)}", **outcome)
    return outcome


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "listen_addresses": {"type": "list", "elements": "str", "required": True},
            "ports": {"type": "list", "elements": "dict", "required": True},
            "min_memory_gib": {"type": "float", "default": 4},
            "min_disk_gib": {"type": "float", "default": 10},
            "disk_path": {"type": "str", "default": "/var/lib/containers"},
            "peers": {"type": "list", "elements": "str", "default": []},
            "peer_port": {"type": "int", "default": 22},
            "reference_time": {"type": "float", "required": True},
            "max_clock_skew": {"type": "float", "default": 2},
            "engine_url": ENGINE_URL_OPTION,
        },
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
