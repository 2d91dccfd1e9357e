"""One order, from the catalog's depends_on: deploy.yml's services play, check/stop/destroy
(telemetry-ansible, through telemetry.deploy.stack) and the Kubernetes registry all follow it."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from telemetry.catalog import load_catalog, service_order
from telemetry.deploy.stack import SERVICE_LABEL, deployed_containers
from tests.conftest import ROOT
from tests.unit.k8s_fixtures import project

CATALOG = load_catalog()


def test_deploy_yml_loops_over_the_catalog_order() -> None:
    plays = yaml.safe_load((ROOT / "ansible" / "deploy.yml").read_text())
    loops = [task.get("loop", "") for play in plays for task in play.get("tasks", [])]
    assert any(loop.startswith("{{ telemetry_service_order ") for loop in loops), loops
    # No play is written per service any more: the order cannot drift from the catalog's.
    assert not [p for p in plays if "roles" in p and p.get("hosts") != "loadbalancer"]


@dataclass
class FakeContainer:
    name: str
    labels: dict[str, str] = field(default_factory=dict)


class FakeContainers:
    def __init__(self, found: list[FakeContainer]) -> None:
        self.found = found

    def list(self, **_: object) -> list[FakeContainer]:
        return self.found


@dataclass
class FakeEngine:
    """The one call telemetry.deploy.stack makes of the engine client (containers.list)."""

    containers: FakeContainers


def test_check_stop_and_destroy_walk_the_same_order() -> None:
    order = service_order(CATALOG)
    found = [FakeContainer(c.name, {SERVICE_LABEL: c.service}) for c in reversed(
        CATALOG.containers())]
    listed = [d.service for d in deployed_containers(FakeEngine(FakeContainers(found)), CATALOG)]
    assert listed == sorted(listed, key=order.index)
    assert listed.index("snmpd") < listed.index("ceilometer")


def test_the_kubernetes_registry_walks_the_same_order() -> None:
    registry = project().registry
    order = service_order(CATALOG)
    assert list(registry.services) == [s for s in order if s in registry.services]
    walked = list(dict.fromkeys(r.service for r in registry.ordered()))
    assert walked == list(registry.services)
