"""Molecule verify of the upgrade scenario: what prepare wrote on Zed, read back on 2025.1.

prepare deployed the Zed images and wrote the data of upgrade_data.py (its STATE file holds
the ids, the measure counts read then, and the new user's password); converge upgraded to
2025.1 and idempotence ran the upgrade a second time. Everything here goes through the nginx
load balancer, with the same credentials as before.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_api import AODH, GNOCCHI, KEYSTONE, issue_token, request, wait_for, webhook_receiver
from upgrade_data import HOST, WEBHOOK_PORT, feed_alarm_metric, read_measures

CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
STATE = Path(os.environ["UPGRADE_STATE"])
VENV_BIN = Path(sys.executable).parent
TARGET_RELEASE = "2025.1"


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    return json.loads(STATE.read_text())


@pytest.fixture(scope="module")
def admin() -> str:
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    return issue_token("admin", passwords["keystone_admin_password"], "admin")


@pytest.fixture(scope="module")
def user_token(state: dict[str, Any]) -> str:
    identity = state["identity"]
    return issue_token(identity["user"], identity["password"], identity["project"])


def test_no_container_is_left_on_a_zed_image(host) -> None:
    names = host.check_output(
        "podman ps -a --filter label=telemetry.service --format '{{.Names}}'").split()
    assert len(names) >= 16, names
    for name in names:
        release = host.check_output(
            "podman image inspect --format '{{ index .Labels \"telemetry.openstack-release\" }}' "
            f"$(podman inspect --format '{{{{.Image}}}}' {name})")
        assert release == TARGET_RELEASE, f"{name} runs an image of {release}"
    check = host.run(f"{VENV_BIN}/telemetry-ansible check")
    assert check.rc == 0, check.stdout


def test_gnocchi_reports_the_2025_1_build(admin: str) -> None:
    status, _, root = request(GNOCCHI.removesuffix("/v1") + "/", admin)
    assert status == 200, root
    assert root["build"].startswith("4.6."), root


def test_the_user_and_project_log_in_with_the_same_password(state: dict[str, Any],
                                                            user_token: str,
                                                            admin: str) -> None:
    status, _, project = request(f"{KEYSTONE}/projects/{state['identity']['project_id']}",
                                 admin)
    assert status == 200, project
    status, _, assignments = request(
        f"{KEYSTONE}/role_assignments?user.id={state['identity']['user_id']}", admin)
    assert status == 200 and assignments["role_assignments"], assignments


def test_every_measure_written_on_zed_reads_back(state: dict[str, Any],
                                                 user_token: str) -> None:
    counts_after = {metric: len(read_measures(user_token, metric)) for metric in state["counts"]}
    assert counts_after == state["counts"], (counts_after, state["counts"])
    assert sum(counts_after.values()) == 5000


def test_the_resource_keeps_its_metrics(state: dict[str, Any], user_token: str) -> None:
    status, _, resource = request(f"{GNOCCHI}/resource/generic/{state['resource_id']}",
                                  user_token)
    assert status == 200, resource
    assert resource["metrics"] == state["resource_metrics"]


def test_host_metrics_arrive_from_the_snmp_pollsters_on_2025_1(admin: str) -> None:
    """This host's snmpd, polled by our pollsters in the 2025.1 ceilometer-central: a memory
    utilization measure newer than this test."""
    started = time.time()

    def newer_measure() -> bool:
        status, _, hosts = request(f"{GNOCCHI}/resource/host", admin)
        ours = [r for r in hosts if HOST in (r.get("original_resource_id") or "")] \
            if status == 200 else []
        metric = ours[0]["metrics"].get("custom.hardware.memory.utilization") if ours else None
        if not metric:
            return False
        status, _, found = request(f"{GNOCCHI}/metric/{metric}/measures?refresh=true"
                                   f"&start={int(started)}", admin)
        return status == 200 and bool(found)
    wait_for("a memory utilization measure polled after the upgrade", newer_measure)


@pytest.fixture(scope="module")
def webhook() -> Iterator[list[dict[str, Any]]]:
    """On the port the alarm was created with, before the upgrade."""
    with webhook_receiver(HOST, WEBHOOK_PORT) as (_, received):
        yield received


def test_the_zed_alarm_evaluates_and_fires_its_webhook(state: dict[str, Any], user_token: str,
                                                       webhook: list[dict[str, Any]]) -> None:
    alarm_url = f"{AODH}/alarms/{state['alarm_id']}"
    status, _, alarm = request(alarm_url, user_token)
    assert status == 200, alarm
    assert alarm["alarm_actions"] == [f"http://{HOST}:{WEBHOOK_PORT}/alarm"]
    # Back to `ok` by its owner, then a fresh breach: the 2025.1 evaluator must see it and the
    # 2025.1 notifier call the webhook registered on Zed. (The evaluator may pass through
    # `insufficient data` before the measure lands; the webhook only listens from here on,
    # so any `alarm` notice it gets was sent after the upgrade.)
    status, _, reply = request(f"{alarm_url}/state", user_token, "ok", method="PUT")
    assert status == 200, reply
    feed_alarm_metric(user_token, state)
    notice = wait_for("the webhook notification from the 2025.1 notifier", lambda: [
        n for n in webhook if n.get("alarm_id") == state["alarm_id"]
        and n.get("current") == "alarm"])
    assert notice[0]["previous"] in ("ok", "insufficient data"), notice
    _, _, history = request(f"{alarm_url}/history", user_token)
    transitions = [json.loads(h["detail"]).get("state") for h in history
                   if h["type"] == "state transition"]
    assert "alarm" in transitions, history


def test_a_second_upgrade_check_plans_nothing_and_a_downgrade_is_refused(host) -> None:
    check = host.run(f"{VENV_BIN}/telemetry-ansible upgrade --check --configdir {CONFIG_DIR}")
    assert check.rc == 0, check.stdout + check.stderr
    assert "0 of " in check.stdout and "containers change image" in check.stdout, check.stdout
    downgrade = CONFIG_DIR.parent / "etc-downgrade"
    downgrade.mkdir(mode=0o700, exist_ok=True)
    (downgrade / "passwords.yml").write_text((CONFIG_DIR / "passwords.yml").read_text())
    (downgrade / "globals.yml").write_text("telemetry_base_release: bookworm\n")
    refused = host.run(f"{VENV_BIN}/telemetry-ansible upgrade --configdir {downgrade}")
    assert refused.rc == 1, refused.stdout
    assert "a downgrade is not possible" in refused.stdout, refused.stdout
