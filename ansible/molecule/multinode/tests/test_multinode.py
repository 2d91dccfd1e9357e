"""Molecule verify of the rig, from outside it: the APIs through the LB host, every host's snmpd
feeding gnocchi, and ingest that loses nothing while an API backend, then its whole host, is
stopped and killed, and while a --serial reconfigure restarts one host at a time.

The failures are real: `podman kill`/`stop` of gnocchi-api inside api02 (over SSH, with its
own engine), then of the test host api02 itself (every container of it at once, as a power
cut), which then boots again. api02 holds only API backends: the state lives on api01 until it
is clustered.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
import yaml
from ingest_load import Ingest, create_policy, ingest_running
from stack_api import AODH, GNOCCHI, KEYSTONE, issue_token, request, wait_for

ROOT = Path(__file__).resolve().parents[4]
CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
INVENTORY = ROOT / "ansible" / "inventory" / "rig"
RIG_KEY = "/var/lib/telemetry-rig/id_ed25519"
# The rig inventory's hosts and addresses.
HOSTS = {"lb01": "10.213.0.10", "api01": "10.213.0.11", "api02": "10.213.0.12",
         "agents01": "10.213.0.13"}
API_HOSTS = ("api01", "api02")


def on_host(host: str, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A command on a test host, over SSH as Ansible reaches it."""
    result = subprocess.run(
        ["ssh", "-n", "-i", RIG_KEY, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
         f"root@{HOSTS[host]}", command], capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, f"{host}: {command}: {result.stderr}"
    return result


def rig(*args: str) -> None:
    subprocess.run(["bash", str(ROOT / "tools" / "rig.sh"), *args], check=True)


def wait_container_healthy(host: str, name: str, timeout: float = 180) -> None:
    wait_for(f"{name} on {host} healthy", lambda: on_host(
        host, f"podman healthcheck run {name}", check=False).returncode == 0, timeout=timeout)


@pytest.fixture(scope="module")
def token() -> str:
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    return issue_token("admin", passwords["keystone_admin_password"], "admin")


@pytest.fixture()
def running_ingest(token: str) -> Iterator[tuple[Ingest, list[Future[None]]]]:
    with ingest_running(token, create_policy(token)) as running:
        yield running


def test_the_apis_answer_through_the_lb_host(token: str) -> None:
    assert request(f"{KEYSTONE}/projects", token)[0] == 200
    assert request(f"{GNOCCHI}/resource/generic", token)[0] == 200
    assert request(f"{AODH}/alarms", token)[0] == 200
    status, _, endpoints = request(f"{KEYSTONE}/endpoints?interface=public", token)
    assert status == 200
    assert {e["url"].split("/")[2].split(":")[0] for e in endpoints["endpoints"]} == {
        HOSTS["lb01"]}, "public endpoints name the LB host"


def test_each_api_host_serves_its_own_backends() -> None:
    for host in API_HOSTS:
        names = on_host(host, "podman ps --format '{{.Names}}'").stdout.split()
        assert {"gnocchi-api", "aodh-api"} <= set(names), host
    assert "mariadb" not in on_host("api02", "podman ps --format '{{.Names}}'").stdout.split()
    agents = on_host("agents01", "podman ps --format '{{.Names}}'").stdout.split()
    assert {"gnocchi-metricd", "aodh-evaluator", "ceilometer-central"} <= set(agents)
    assert "gnocchi-api" not in agents


def test_every_hosts_snmpd_feeds_gnocchi(token: str) -> None:
    def polled() -> set[str]:
        status, _, found = request(f"{GNOCCHI}/resource/host", token)
        assert status == 200, found
        return {address for address in HOSTS.values()
                if any(address in (r.get("original_resource_id") or "") for r in found)}

    wait_for("a host resource for each of the four hosts",
             lambda: polled() == set(HOSTS.values()), timeout=240)


def test_losing_a_backend_then_its_whole_host_during_ingest_loses_nothing(
        token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    ingest, clients = running_ingest
    on_host("api02", "podman kill --signal KILL gnocchi-api")
    time.sleep(2)
    on_host("api02", "podman start gnocchi-api")
    wait_container_healthy("api02", "gnocchi-api")
    on_host("api02", "podman stop gnocchi-api")
    time.sleep(2)
    on_host("api02", "podman start gnocchi-api")
    wait_container_healthy("api02", "gnocchi-api")
    # The whole host: shut down, then a power cut; each time it boots and its containers
    # come back on their own (restart policy), with nobody redeploying.
    for how in (["podman", "stop", "-t", "10", "rig-api02"],
                ["podman", "kill", "--signal", "KILL", "rig-api02"]):
        subprocess.run(how, check=True, capture_output=True)
        time.sleep(5)
        subprocess.run(["podman", "start", "rig-api02"], check=True, capture_output=True)
        wait_container_healthy("api02", "gnocchi-api")
    ingest.finish(clients)
    ingest.assert_nothing_lost(token)


def started_at(host: str, name: str) -> float:
    attrs = json.loads(on_host(host, f"podman inspect {name}").stdout)[0]
    return _epoch(attrs["State"]["StartedAt"])


def _epoch(stamp: str) -> float:
    # podman: 2026-12-02T07:01:02.123456789Z (nanoseconds; fromisoformat takes microseconds)
    date, _, fraction = stamp.rstrip("Z").partition(".")
    return time.mktime(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{fraction or 0}")


def test_a_serial_reconfigure_restarts_one_api_host_at_a_time_losing_nothing(
        token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    ingest, clients = running_ingest
    before = {host: started_at(host, "gnocchi-api") for host in API_HOSTS}
    globals_file = CONFIG_DIR / "globals.yml"
    original = globals_file.read_text()
    # One option of gnocchi-api's config: each API host's gnocchi-api is recreated.
    globals_file.write_text(original + "gnocchi_api_max_limit: 2000\n")
    try:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "telemetry-ansible"), "-i", str(INVENTORY),
             "--configdir", str(CONFIG_DIR), "reconfigure", "--serial", "1", "--tags",
             "gnocchi"], capture_output=True, text=True, check=False)
    finally:
        globals_file.write_text(original)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    ingest.finish(clients)
    after = {host: started_at(host, "gnocchi-api") for host in API_HOSTS}
    assert all(after[host] > before[host] for host in API_HOSTS), "each was restarted"
    # Serial: api02 was recreated only after api01's batch ended (healthy, then the rest of
    # its play), so the two restarts are apart.
    assert after["api02"] - after["api01"] > 5, after
    ingest.assert_nothing_lost(token)
