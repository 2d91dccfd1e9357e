"""Filters over catalog entries; the logic lives in telemetry.deploy.contract (shared with k8s)."""

from __future__ import annotations

from telemetry.deploy.contract import config_entry, engine_healthcheck


class FilterModule:
    def filters(self):
        return {"telemetry_config_entry": config_entry,
                "telemetry_healthcheck": engine_healthcheck}
