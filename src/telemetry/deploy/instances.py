"""Instances of a container on Ansible hosts: a host runs one per address of its
`<container>_instances` list (the all-in-one runs two gnocchi-api), else one on its
api_interface_address."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def instances_var(container_name: str) -> str:
    """The host variable listing a container's listen addresses, e.g. gnocchi_api_instances."""
    return container_name.replace("-", "_") + "_instances"


def host_instance_addresses(host_vars: Mapping[str, Any], container_name: str) -> list[str]:
    return list(host_vars.get(instances_var(container_name))
                or [host_vars["api_interface_address"]])


def instance_addresses(hostvars: Mapping[str, Any], hosts: Sequence[str],
                       container_name: str) -> list[str]:
    """Every address a container listens on across `hosts`: the load balancer's backends."""
    addresses: list[str] = []
    for host in hosts:
        own = host_instance_addresses(hostvars[host], container_name)
        addresses += [address for address in own if address not in addresses]
    return addresses
