"""The deployed containers on this host, in the catalog's one dependency order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telemetry.catalog import Catalog, service_order
from telemetry.common.stack import SERVICE_LABEL, labelled_containers


@dataclass(frozen=True)
class Deployed:
    service: str
    container: Any


def deployed_containers(client: Any, catalog: Catalog) -> list[Deployed]:
    """Our containers (label telemetry.service), dependencies first."""
    return [Deployed(c.labels.get(SERVICE_LABEL, ""), c)
            for c in labelled_containers(client, service_order(catalog))]


def catalog_volumes(catalog: Catalog) -> list[str]:
    names = {spec.split(":", 1)[0] for c in catalog.containers() for spec in c.volumes}
    names |= {s.logs_volume for s in catalog.services.values() if s.logs_volume}
    return sorted(name for name in names if not name.startswith("/"))
