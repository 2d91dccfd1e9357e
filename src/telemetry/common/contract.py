"""Catalog entries turned into what containers consume: config.json entries and healthchecks.

Both engines use these, so a container's healthcheck and config layout are defined once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONFIG_MOUNT = "/var/lib/telemetry/config_files"


def config_entry(config_file: Mapping[str, Any]) -> dict[str, Any]:
    """A catalog config file -> a config.json entry read by telemetry_set_configs."""
    return {"source": f"{CONFIG_MOUNT}/{config_file['src']}", "dest": config_file["dest"],
            "owner": config_file["owner"], "perm": config_file["perm"]}


def healthcheck_command(healthcheck: Mapping[str, Any], address: str) -> list[str]:
    """The command that checks a container's health, run inside it."""
    kind, port = healthcheck["type"], str(healthcheck["port"])
    if kind == "http":
        host = f"[{address}]" if ":" in address else address
        return ["telemetry_healthcheck", "http", f"http://{host}:{port}{healthcheck['path']}"]
    if kind == "listen":
        udp = ["--udp"] if healthcheck.get("protocol") == "udp" else []
        return ["telemetry_healthcheck", "listen", port, *udp]
    if kind == "established":
        # Directly to the peer, or to a load balancer in front of it (mariadb-proxy).
        through = [str(number) for number in healthcheck.get("frontend_ports") or ()]
        return ["telemetry_healthcheck", "established", port, *through]
    if kind == "mariadb":
        return ["telemetry_healthcheck", "mariadb", port]
    raise ValueError(f"unknown healthcheck type {kind!r}")


def engine_healthcheck(healthcheck: Mapping[str, Any] | None, address: str,
                       interval: int = 30, retries: int = 3) -> dict[str, Any] | None:
    """The container engine's HEALTHCHECK settings for telemetry_container."""
    if not healthcheck:
        return None
    return {"test": ["CMD", *healthcheck_command(healthcheck, address)], "interval": interval,
            "timeout": 10, "retries": retries, "start_period": 5}
