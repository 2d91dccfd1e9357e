"""Molecule verify: the data path, SNMP -> ceilometer -> gnocchi (horizon-mimic) -> aodh -> webhook.

The scenario polls every 10 s and evaluates alarms every 10 s (molecule.yml), so within a few
minutes of the deploy this host's snmpd has been polled by our pollsters in ceilometer-central,
the samples have gone through ceilometer-notification into gnocchi, and an alarm on one of them
can fire and reach a webhook served by this test.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_api import AODH, GNOCCHI, issue_token, request, webhook_receiver
from stack_api import wait_for as wait_until

CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
HOST = "127.0.0.1"
HOST_METERS = ("custom.hardware.cpu.util.percentage", "custom.hardware.memory.used",
               "custom.hardware.memory.utilization")
DATA_TIMEOUT = 300


def wait_for(what: str, probe: Callable[[], Any], timeout: float = DATA_TIMEOUT) -> Any:
    return wait_until(what, probe, timeout)


@pytest.fixture(scope="module")
def token() -> str:
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    return issue_token("admin", passwords["keystone_admin_password"], "admin")


def resources(token: str, resource_type: str) -> list[dict[str, Any]]:
    status, _, found = request(f"{GNOCCHI}/resource/{resource_type}", token)
    assert status == 200, found
    return found


def this_host(token: str, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in resources(token, resource_type)
            if HOST in (r.get("original_resource_id") or "")]


@pytest.fixture(scope="module")
def host_resource(token: str) -> dict[str, Any]:
    return wait_for("a gnocchi `host` resource for 127.0.0.1",
                    lambda: next(iter(this_host(token, "host")), None))


def measures(token: str, resource: dict[str, Any], meter: str) -> list[list[Any]]:
    metric_id = resource["metrics"].get(meter)
    if not metric_id:
        return []
    status, _, points = request(f"{GNOCCHI}/metric/{metric_id}/measures?refresh=true"
                                "&granularity=60", token)
    return points if status == 200 else []


def test_the_host_its_interfaces_and_disks_are_gnocchi_resources(token: str,
                                                                 host_resource: dict) -> None:
    assert not any("@" in (r.get("original_resource_id") or "")
                   for r in resources(token, "host")), "the community leaked into a resource id"
    interfaces = wait_for("host_network_interface resources",
                          lambda: this_host(token, "host_network_interface"))
    disks = wait_for("host_disk resources", lambda: this_host(token, "host_disk"))
    assert any(r["device_name"] == "lo" for r in interfaces), interfaces
    assert disks


def test_host_meters_have_measures_under_horizon_mimic(token: str, host_resource: dict) -> None:
    for meter in HOST_METERS:
        points = wait_for(f"measures of {meter}", lambda m=meter: measures(
            token, this_host(token, "host")[0], m))
        _, _, metric = request(f"{GNOCCHI}/metric/{host_resource['metrics'][meter]}",
                                    token)
        assert metric["archive_policy"]["name"] == "horizon-mimic"
        assert all(point[1] == 60.0 for point in points)
    cpu = measures(token, host_resource, "custom.hardware.cpu.util.percentage")
    assert all(0.0 <= point[2] <= 100.0 for point in cpu), cpu


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with webhook_receiver(HOST) as receiver:
        yield receiver


def test_an_alarm_on_a_host_meter_fires_and_reaches_the_webhook(
        token: str, host_resource: dict, webhook: tuple[str, list[dict[str, Any]]]) -> None:
    webhook_url, received = webhook
    wait_for("memory utilization measures", lambda: measures(
        token, host_resource, "custom.hardware.memory.utilization"))
    alarm = {"name": f"molecule-memory-{time.time_ns()}", "type": "gnocchi_resources_threshold",
             "gnocchi_resources_threshold_rule": {
                 "metric": "custom.hardware.memory.utilization", "resource_type": "host",
                 "resource_id": host_resource["id"], "aggregation_method": "mean",
                 "granularity": 60, "evaluation_periods": 1,
                 "comparison_operator": "gt", "threshold": 0.0},
             "alarm_actions": [webhook_url], "repeat_actions": False}
    status, _, created = request(f"{AODH}/alarms", token, alarm)
    assert status == 201, created
    alarm_id = created["alarm_id"]
    try:
        wait_for("the alarm going to `alarm`", lambda: request(
            f"{AODH}/alarms/{alarm_id}", token)[2]["state"] == "alarm")
        notice = wait_for("the webhook notification", lambda: [
            n for n in received if n.get("alarm_id") == alarm_id], timeout=60)
        assert notice[0]["current"] == "alarm"
        _, _, history = request(f"{AODH}/alarms/{alarm_id}/history", token)
        transitions = [json.loads(h["detail"]).get("state") for h in history
                       if h["type"] == "state transition"]
        assert "alarm" in transitions, history
    finally:
        request(f"{AODH}/alarms/{urllib.parse.quote(alarm_id)}", token, method="DELETE")
