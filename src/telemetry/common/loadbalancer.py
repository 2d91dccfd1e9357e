"""Taking API backends out of the nginx load balancer's rendered configuration, and back.

A planned restart (reconfigure, upgrade, --serial) drains a backend first: every `server`
line of it is marked `down` in a copy of the rendered nginx.conf, nginx reloads gracefully
(its old workers finish what they were proxying), and only then is the backend stopped. Once
it is healthy again it is put back. Retrying on the next server covers a backend that dies
unannounced, but only for requests that may be sent twice; a drain covers every request,
creating an alarm or a user included, because none is in flight on the backend when it stops.

Shipped to managed hosts as ``ansible.module_utils.telemetry_common.loadbalancer``: standard
library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_UPSTREAM = re.compile(r"^\s*upstream\s+(\S+)\s*\{\s*$")
_SERVER = re.compile(r"^(?P<indent>\s*)server\s+(?P<address>\S+)(?P<options>[^;]*);\s*$")
_BLOCK_END = re.compile(r"^\s*\}\s*$")


@dataclass(frozen=True)
class DrainPlan:
    """The configuration with the drained servers marked down, and what could not be drained."""

    config: str
    # server -> the upstreams it was marked down in
    drained: dict[str, list[str]] = field(default_factory=dict)
    # server -> why it stays in service (it is the last live server of an upstream)
    kept: dict[str, str] = field(default_factory=dict)


@dataclass
class _Upstream:
    name: str
    # (line index, server address, is a backup)
    servers: list[tuple[int, str, bool]] = field(default_factory=list)

    def primaries(self) -> list[str]:
        return [address for _, address, backup in self.servers if not backup]

    def addresses(self) -> list[str]:
        return [address for _, address, _ in self.servers]


def _upstreams(lines: list[str]) -> list[_Upstream]:
    upstreams: list[_Upstream] = []
    current: _Upstream | None = None
    for index, line in enumerate(lines):
        if current is None:
            started = _UPSTREAM.match(line)
            if started:
                current = _Upstream(started.group(1))
            continue
        if _BLOCK_END.match(line):
            upstreams.append(current)
            current = None
            continue
        server = _SERVER.match(line)
        if server:
            options = server.group("options").split()
            current.servers.append((index, server.group("address"), "backup" in options))
    return upstreams


def _mark_down(line: str) -> str:
    server = _SERVER.match(line)
    assert server is not None  # only server lines are marked
    if "down" in server.group("options").split():
        return line
    return (f"{server.group('indent')}server {server.group('address')}"
            f"{server.group('options')} down;")


def drain(config: str, servers: Iterable[str]) -> DrainPlan:
    """Mark every line of each server ("address:port") down, in every upstream it serves.

    A server that is the last of an upstream left in service (primary or backup: a single
    writer's backups take over from it) stays in: with every server down nginx answers 502
    itself, which is worse than a backend that restarts. Only primaries are drained, as only
    they receive requests. Servers are taken in the order given, so the first ones asked for
    win."""
    lines = config.splitlines()
    drained: dict[str, list[str]] = {}
    kept: dict[str, str] = {}
    for upstream in _upstreams(lines):
        down: set[str] = set()
        for server in servers:
            if server not in upstream.primaries():
                continue
            live = [address for address in upstream.addresses()
                    if address not in down and address != server]
            if not live:
                kept[server] = (f"it is the only server of upstream {upstream.name} still in "
                                "service")
                continue
            down.add(server)
            drained.setdefault(server, []).append(upstream.name)
        for index, address, _ in upstream.servers:
            if address in down:
                lines[index] = _mark_down(lines[index])
    ending = "\n" if config.endswith("\n") else ""
    return DrainPlan("\n".join(lines) + ending, drained, kept)
