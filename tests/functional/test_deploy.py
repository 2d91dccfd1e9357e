"""The whole stack deployed all-in-one with telemetry-ansible, for real, then queried.

Runs against this host's podman: it first destroys any telemetry stack here (volumes too), so
the deployment starts from nothing, as on a new host.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import docker
import pytest
import yaml

from tests.conftest import ROOT, run_cli
from tests.functional.conftest import build

CLI = "telemetry.cli.ansible"
LB = "http://127.0.0.1"


def ansible(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(CLI, *args, timeout=1800)


def recap_changed(output: str) -> int:
    match = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", output)
    assert match, output[-3000:]
    return int(match.group(1))


@pytest.fixture(scope="module")
def configdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("etc-telemetry")
    shutil.copy(ROOT / "etc/telemetry/passwords.yml", directory / "passwords.yml")
    assert run_cli("telemetry.cli.genpwd", "-p", str(directory / "passwords.yml")).returncode == 0
    return directory


@pytest.fixture(scope="module")
def deployed(configdir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    code, _, output = build(tmp_path_factory.mktemp("images"))
    assert code == 0, output
    destroyed = ansible("destroy", "--yes-i-really-really-mean-it", "--include-volumes")
    assert destroyed.returncode == 0, destroyed.stderr
    result = ansible("deploy", "--configdir", str(configdir))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr
    return result.stdout


def passwords(configdir: Path) -> dict[str, str]:
    return yaml.safe_load((configdir / "passwords.yml").read_text())


def token(configdir: Path, user: str, password: str, project: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    request = urllib.request.Request(f"{LB}:15000/v3/auth/tokens", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.headers["X-Subject-Token"]


def get_json(url: str, auth_token: str) -> object:
    request = urllib.request.Request(url, headers={"X-Auth-Token": auth_token})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def test_every_container_is_healthy(deployed: str) -> None:
    result = ansible("check")
    assert result.returncode == 0, result.stdout
    assert "16 of 16 containers healthy" in result.stdout  # two gnocchi-api backends


def test_keystone_and_gnocchi_answer_through_the_load_balancer(deployed: str,
                                                               configdir: Path) -> None:
    secrets = passwords(configdir)
    admin = token(configdir, "admin", secrets["keystone_admin_password"], "admin")
    policy = get_json(f"{LB}:18041/v1/archive_policy/horizon-mimic", admin)
    assert [(d["granularity"], d["points"]) for d in policy["definition"]] == [
        ("0:01:00", 30), ("0:05:00", 288), ("0:30:00", 336), ("2:00:00", 360),
        ("1 day, 0:00:00", 365)]
    assert set(policy["aggregation_methods"]) == {"mean", "max", "min", "count", "sum", "std",
                                                  "rate:mean"}
    rule = get_json(f"{LB}:18041/v1/archive_policy_rule/default", admin)
    assert (rule["metric_pattern"], rule["archive_policy_name"]) == ("*", "horizon-mimic")


def test_admin_credentials_are_written_private(deployed: str, configdir: Path) -> None:
    secrets = passwords(configdir)
    for name in ("admin-openrc.sh", "clouds.yaml"):
        path = configdir / name
        assert oct(path.stat().st_mode & 0o777) == "0o600", name
        assert secrets["keystone_admin_password"] in path.read_text()
    openrc = (configdir / "admin-openrc.sh").read_text()
    assert "OS_AUTH_URL=http://127.0.0.1:15000/v3" in openrc


def test_service_users_work_in_the_service_project(deployed: str, configdir: Path) -> None:
    secrets = passwords(configdir)
    for user in ("gnocchi", "aodh", "ceilometer"):
        assert token(configdir, user, secrets[f"{user}_keystone_password"], "service")
    alarms = get_json(f"{LB}:18042/v2/alarms",
                      token(configdir, "aodh", secrets["aodh_keystone_password"], "service"))
    assert alarms == []


def test_rerun_changes_nothing_and_reconfigure_recreates_only_what_changed(
        deployed: str, configdir: Path) -> None:
    client = docker.DockerClient(base_url="unix:///run/podman/podman.sock")
    started = {c.name: c.attrs["State"]["StartedAt"] for c in client.containers.list()}
    rerun = ansible("deploy", "--configdir", str(configdir))
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert recap_changed(rerun.stdout) == 0
    changed = ansible("reconfigure", "--configdir", str(configdir), "--tags", "gnocchi",
                      "-e", "gnocchi_api_processes=3")
    assert changed.returncode == 0, changed.stdout[-3000:]
    assert "Why it was recreated: gnocchi-api" in changed.stdout
    assert "config_hash" in changed.stdout
    after = {c.name: c.attrs["State"]["StartedAt"] for c in client.containers.list()}
    restarted = sorted(name for name in started if after.get(name) != started[name])
    # Both gnocchi-api instances read gnocchi-uwsgi.ini; nothing else does.
    assert restarted == ["gnocchi-api", "gnocchi-api-2"]


def test_missing_password_fails_naming_it(deployed: str, tmp_path: Path) -> None:
    (tmp_path / "passwords.yml").write_text(
        (ROOT / "etc/telemetry/passwords.yml").read_text())
    result = ansible("deploy", "--configdir", str(tmp_path), "--tags", "redis")
    assert result.returncode == 1
    assert "no value for" in result.stdout and "redis_password" in result.stdout


def test_deploy_refuses_an_unknown_service_switch_and_changes_nothing(
        deployed: str, configdir: Path, tmp_path: Path) -> None:
    shutil.copy(configdir / "passwords.yml", tmp_path / "passwords.yml")
    (tmp_path / "globals.yml").write_text("enable_gnochi_api: false\n")
    client = docker.DockerClient(base_url="unix:///run/podman/podman.sock")
    started = {c.name: c.attrs["State"]["StartedAt"] for c in client.containers.list()}
    result = ansible("deploy", "--configdir", str(tmp_path))
    assert result.returncode == 1
    assert "enable_gnochi_api switches no container" in result.stdout
    assert "refused, nothing was changed" in result.stderr
    assert "ansible-playbook" not in result.stdout
    assert {c.name: c.attrs["State"]["StartedAt"] for c in client.containers.list()} == started


def test_destroy_needs_confirmation(deployed: str) -> None:
    result = ansible("destroy")
    assert result.returncode == 2
    assert "--yes-i-really-really-mean-it" in result.stderr


def test_log_to_file_writes_logs_to_volumes_that_cron_rotates(deployed: str,
                                                              configdir: Path) -> None:
    result = ansible("reconfigure", "--configdir", str(configdir), "-e", "log_to_file=true")
    assert result.returncode == 0, result.stdout[-3000:]
    client = docker.DockerClient(base_url="unix:///run/podman/podman.sock")
    cron = client.containers.get("cron")
    # Seed 003's rule: past 10M a log is copied, compressed and truncated (the service keeps
    # writing to the same open file).
    code, output = cron.exec_run(
        ["sh", "-c", "ls /var/log/gnocchi/*.log && head -c 11000000 /dev/zero >> "
         "/var/log/gnocchi/uwsgi-gnocchi.log && /usr/sbin/logrotate --state "
         "/var/lib/logrotate/status /etc/logrotate.d/telemetry && ls -l /var/log/gnocchi"])
    assert code == 0, output.decode()
    listing = output.decode()
    assert "uwsgi-gnocchi.log.1.gz" in listing
    size = int(next(line.split()[4] for line in listing.splitlines()
                    if line.endswith(" uwsgi-gnocchi.log")))
    assert size < 1_000_000, listing
    back = ansible("reconfigure", "--configdir", str(configdir))
    assert back.returncode == 0, back.stdout[-3000:]
    assert "cron" not in {c.name for c in client.containers.list(all=True)}
