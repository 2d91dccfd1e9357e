"""The deploy's containers on one host, in the catalog's dependency order.

Shared by telemetry.deploy (the controller, which knows the catalog) and the Ansible modules on
managed hosts (which are handed the order, telemetry_service_order): standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Every container the deploy runs carries it, with its catalog service as the value.
SERVICE_LABEL = "telemetry.service"


def labelled_containers(client: Any, service_order: Sequence[str]) -> list[Any]:
    """The engine's containers with SERVICE_LABEL, running or not, dependencies first; a
    service the order does not know (removed from the catalog since) goes last."""
    order = {name: index for index, name in enumerate(service_order)}
    found = client.containers.list(all=True, filters={"label": SERVICE_LABEL})
    return sorted(found, key=lambda c: (order.get(c.labels.get(SERVICE_LABEL, ""), len(order)),
                                        c.name))
