"""Filters over catalog entries; the logic lives in the telemetry package (shared with k8s)."""

from __future__ import annotations

from collections.abc import Sequence

from telemetry.common.contract import config_entry, engine_healthcheck
from telemetry.deploy.instances import instance_addresses


def selected_services(order: Sequence[str], run_tags: Sequence[str],
                      skip_tags: Sequence[str]) -> list[str]:
    """The services of the catalog order that --tags/--skip-tags select (a service's tag is
    its name, as Kolla-Ansible's plays are tagged)."""
    everything = "all" in run_tags or not run_tags
    return [s for s in order if (everything or s in run_tags) and s not in skip_tags]


class FilterModule:
    def filters(self):
        return {"telemetry_config_entry": config_entry,
                "telemetry_healthcheck": engine_healthcheck,
                "telemetry_instance_addresses": instance_addresses,
                "telemetry_selected_services": selected_services}
