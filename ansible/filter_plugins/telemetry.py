"""Filters over catalog entries; the logic lives in the telemetry package (shared with k8s)."""

from __future__ import annotations

from collections.abc import Sequence

from telemetry.catalog import load_catalog
from telemetry.common.contract import config_entry, engine_healthcheck
from telemetry.deploy.instances import instance_addresses


def selected_services(order: Sequence[str], run_tags: Sequence[str],
                      skip_tags: Sequence[str]) -> list[str]:
    """The services of the catalog order that --tags/--skip-tags select (a service's tag is
    its name, as Kolla-Ansible's plays are tagged)."""
    everything = "all" in run_tags or not run_tags
    return [s for s in order if (everything or s in run_tags) and s not in skip_tags]


def toolbox_hosts(groups: dict[str, list[str]]) -> list[str]:
    """The hosts that run toolbox one-shots: the first of each group of a service with
    databases or a keystone registration (the service role's service_first_host)."""
    catalog = load_catalog()
    wanted = [catalog.services[name].group for name in catalog.services
              if catalog.services[name].databases or catalog.services[name].keystone]
    return sorted({groups[group][0] for group in wanted if groups.get(group)})


def container_ports(containers: Sequence[dict]) -> list[dict]:
    """[{port, container}] of lookup('telemetry_catalog', ..., kind='containers') entries."""
    return [{"port": port, "container": container["name"]} for container in containers
            for port in (container.get("ports") or {}).values()]


class FilterModule:
    def filters(self):
        return {"telemetry_config_entry": config_entry,
                "telemetry_healthcheck": engine_healthcheck,
                "telemetry_instance_addresses": instance_addresses,
                "telemetry_selected_services": selected_services,
                "telemetry_toolbox_hosts": toolbox_hosts,
                "telemetry_container_ports": container_ports}
