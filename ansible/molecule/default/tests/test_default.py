"""Molecule verify (testinfra): the all-in-one stack converge deployed, checked as a user would.

Everything here talks to the real containers: keystone, gnocchi and aodh through the nginx load
balancer, redis and snmpd on their ports, files on the host.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from stack_api import AODH, GNOCCHI, KEYSTONE, issue_token, request

CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
NODE_CONFIG_DIR = Path("/etc/telemetry/containers")
VENV_BIN = Path(sys.executable).parent
GNOCCHI_BACKENDS = ("127.0.0.1", "127.0.0.2")


@pytest.fixture(scope="module")
def gnocchi_api_port() -> int:
    """prepare.yml moves gnocchi-api off the catalog's 8041 with one globals.yml line."""
    port = yaml.safe_load((CONFIG_DIR / "globals.yml").read_text())["gnocchi_api_port"]
    assert port != 8041
    return port


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())


@pytest.fixture(scope="module")
def admin_token(passwords: dict[str, str]) -> str:
    return issue_token("admin", passwords["keystone_admin_password"], "admin")


def telemetry_containers(host) -> list[str]:
    names = host.check_output(
        "podman ps -a --filter label=telemetry.service --format '{{.Names}}'")
    return sorted(names.split())


def test_every_container_runs_and_its_healthcheck_passes(host) -> None:
    names = telemetry_containers(host)
    assert {"mariadb", "keystone", "gnocchi-api", "gnocchi-api-2", "aodh-api", "redis",
            "snmpd", "nginx"} <= set(names)
    for name in names:
        assert host.podman(name).is_running, name
    check = host.run(f"{VENV_BIN}/telemetry-ansible check")
    assert check.rc == 0, check.stdout
    assert f"{len(names)} of {len(names)} containers healthy" in check.stdout


def test_a_keystone_token_is_issued_for_every_service_user(passwords: dict[str, str]) -> None:
    for user in ("gnocchi", "aodh", "ceilometer"):
        assert issue_token(user, passwords[f"{user}_keystone_password"], "service")


def test_the_service_users_hold_the_service_role_and_not_admin(admin_token: str) -> None:
    """prepare turns on enable_keystone_service_role; every other check here and in
    test_telemetry_path then runs with these users. ceilometer keeps admin (the catalog's
    needs_admin: its publisher lists keystone's domains and projects)."""
    _, _, projects = request(f"{KEYSTONE}/projects?name=service", admin_token)
    project_id = projects["projects"][0]["id"]
    for user in ("gnocchi", "aodh", "ceilometer"):
        _, _, users = request(f"{KEYSTONE}/users?name={user}", admin_token)
        user_id = users["users"][0]["id"]
        status, _, roles = request(f"{KEYSTONE}/projects/{project_id}/users/{user_id}/roles",
                                   admin_token)
        assert status == 200, roles
        names = {role["name"] for role in roles["roles"]}
        if user == "ceilometer":
            assert "admin" in names, roles
        else:
            assert names == {"service"}, (user, roles)


def test_ceilometer_serves_what_it_polls_for_prometheus() -> None:
    """prepare turns on enable_ceilometer_prometheus_exporter (ceilometer 24)."""
    url = "http://127.0.0.1:9101/metrics"
    deadline = time.monotonic() + 180
    body = ""
    while time.monotonic() < deadline and "hardware" not in body:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                body = reply.read().decode()
        except OSError:
            body = ""
        time.sleep(5)
    assert "hardware" in body, f"no polled hardware meter at {url}: {body[:500]}"


def test_gnocchi_lists_horizon_mimic_through_the_load_balancer(admin_token: str) -> None:
    status, _, policies = request(f"{GNOCCHI}/archive_policy", admin_token)
    assert status == 200
    horizon = next(p for p in policies if p["name"] == "horizon-mimic")
    assert [(d["granularity"], d["points"]) for d in horizon["definition"]] == [
        ("0:01:00", 30), ("0:05:00", 288), ("0:30:00", 336), ("2:00:00", 360),
        ("1 day, 0:00:00", 365)]
    status, _, rule = request(f"{GNOCCHI}/archive_policy_rule/default", admin_token)
    assert (rule["metric_pattern"], rule["archive_policy_name"]) == ("*", "horizon-mimic")


def test_gnocchi_accepts_measures_and_returns_them_aggregated(admin_token: str) -> None:
    status, _, metric = request(f"{GNOCCHI}/metric", admin_token,
                                {"archive_policy_name": "horizon-mimic",
                                 "name": f"molecule-{time.time_ns()}"})
    assert status == 201, metric
    measures = [{"timestamp": "2026-01-01T00:00:10", "value": 2.0},
                {"timestamp": "2026-01-01T00:00:40", "value": 4.0},
                {"timestamp": "2026-01-01T00:01:10", "value": 10.0}]
    status, _, reply = request(f"{GNOCCHI}/metric/{metric['id']}/measures", admin_token,
                               measures)
    assert status == 202, reply
    status, _, points = request(f"{GNOCCHI}/metric/{metric['id']}/measures"
                                "?aggregation=mean&granularity=60&refresh=true", admin_token)
    assert status == 200, points
    assert [(p[0][:19], p[2]) for p in points] == [("2026-01-01T00:00:00", 3.0),
                                                   ("2026-01-01T00:01:00", 10.0)]


def test_aodh_lists_alarms_through_the_load_balancer(passwords: dict[str, str]) -> None:
    token = issue_token("aodh", passwords["aodh_keystone_password"], "service")
    status, _, alarms = request(f"{AODH}/alarms", token)
    assert status == 200 and isinstance(alarms, list)


def test_both_gnocchi_backends_answer_on_their_own_address_and_the_overridden_port(
        host, gnocchi_api_port: int) -> None:
    for address in GNOCCHI_BACKENDS:
        url = f"http://{address}:{gnocchi_api_port}/healthcheck"
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert reply.status == 200, address
        assert not host.socket(f"tcp://{address}:8041").is_listening


def test_the_port_override_reached_healthcheck_and_the_lb_behind_the_endpoints(
        host, admin_token: str, gnocchi_api_port: int) -> None:
    for name in ("gnocchi-api", "gnocchi-api-2"):
        test = host.check_output(f"podman inspect --format '{{{{.Config.Healthcheck.Test}}}}' "
                                 f"{name}")
        assert f":{gnocchi_api_port}/healthcheck" in test, test
    # The keystone catalog's gnocchi endpoints, internal too, are the load balancer, whose
    # upstream holds the overridden backend port.
    status, _, reply = request(f"{KEYSTONE}/endpoints", admin_token)
    assert status == 200
    internal = {e["url"] for e in reply["endpoints"] if e["interface"] == "internal"}
    assert GNOCCHI.removesuffix("/v1") in internal, internal
    nginx = (NODE_CONFIG_DIR / "nginx" / "nginx.conf").read_text()
    assert f"server 127.0.0.1:{gnocchi_api_port} " in nginx


def test_memcached_listens_on_the_host_address_only(host) -> None:
    """The catalog's memcached command follows api_interface_address (127.0.0.1 here): its
    unauthenticated port is not on every interface of the host."""
    listening = host.socket.get_listening_sockets()
    assert "tcp://127.0.0.1:11211" in listening, listening
    assert not [s for s in listening if s.endswith(":11211") and "127.0.0.1" not in s]


def test_the_load_balancer_loses_no_request_when_a_backend_refuses(host,
                                                                   admin_token: str) -> None:
    host.check_output("podman stop -t 5 gnocchi-api-2")
    try:
        statuses = [request(f"{GNOCCHI}/archive_policy/horizon-mimic", admin_token)[0]
                    for _ in range(20)]
    finally:
        host.check_output("podman start gnocchi-api-2")
    assert statuses == [200] * 20


def redis_reply(command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", 6379), timeout=10) as conn:
        conn.sendall(command)
        return conn.recv(256)


def test_redis_refuses_a_client_without_the_password(passwords: dict[str, str]) -> None:
    assert redis_reply(b"PING\r\n").startswith(b"-NOAUTH")
    password = passwords["redis_password"].encode()
    auth = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(password), password)
    assert redis_reply(auth) == b"+OK\r\n"


def test_snmpd_answers_the_generated_community_only(host, passwords: dict[str, str]) -> None:
    sys_uptime = "1.3.6.1.2.1.1.3.0"
    community = passwords["snmp_community"]
    assert community != "public"
    good = host.run(f"snmpget -v2c -c '{community}' -t 2 -r 1 127.0.0.1 {sys_uptime}")
    assert good.rc == 0 and "Timeticks" in good.stdout, good.stderr
    public = host.run(f"snmpget -v2c -c public -t 1 -r 0 127.0.0.1 {sys_uptime}")
    assert public.rc != 0 and "Timeout" in public.stderr


def test_config_files_are_not_world_readable(host) -> None:
    rendered = host.check_output(f"find {NODE_CONFIG_DIR} {CONFIG_DIR} -type f").split()
    assert any(path.endswith("gnocchi.conf") for path in rendered)
    for path in rendered:
        assert host.file(path).mode & 0o007 == 0, f"{path} is readable by others"
