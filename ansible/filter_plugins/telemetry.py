"""Filters over catalog entries; the logic lives in telemetry.deploy.contract (shared with k8s)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from telemetry.deploy.contract import config_entry, engine_healthcheck


def instances_var(container_name: str) -> str:
    """The host variable listing a container's listen addresses, e.g. gnocchi_api_instances."""
    return container_name.replace("-", "_") + "_instances"


def instance_addresses(hostvars: Mapping[str, Any], hosts: Sequence[str],
                       container_name: str) -> list[str]:
    """Every address a container listens on across `hosts`: the load balancer's backends.

    A host runs one instance per address in its `<container>_instances` list (the all-in-one
    runs two gnocchi-api), or one on its api_interface_address when the list is not set.
    """
    addresses: list[str] = []
    for host in hosts:
        host_vars = hostvars[host]
        own = host_vars.get(instances_var(container_name)) or [host_vars["api_interface_address"]]
        addresses += [address for address in own if address not in addresses]
    return addresses


def expand_instances(containers: Sequence[Mapping[str, Any]], host_vars: Mapping[str, Any],
                     default_address: str) -> list[dict[str, Any]]:
    """One entry per instance: the first keeps the catalog name, the next get -2, -3, ..."""
    expanded: list[dict[str, Any]] = []
    for container in containers:
        addresses = host_vars.get(instances_var(container["name"])) or [default_address]
        for index, address in enumerate(addresses, start=1):
            name = container["name"] if index == 1 else f"{container['name']}-{index}"
            expanded.append({**container, "name": name, "listen_address": address,
                             "first_instance": index == 1})
    return expanded


class FilterModule:
    def filters(self):
        return {"telemetry_config_entry": config_entry,
                "telemetry_healthcheck": engine_healthcheck,
                "telemetry_instance_addresses": instance_addresses,
                "telemetry_expand_instances": expand_instances}
