"""Molecule verify: the operator's telemetry-ansible actions on the stack converge deployed.

Each one runs the CLI an operator runs, against the scenario's config dir: what it writes for
the admin, a reconfigure that recreates only what one option changed, inputs it refuses
without changing anything, and log files rotated by the cron container.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
import yaml

CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
CLI = Path(sys.executable).parent / "telemetry-ansible"
# Where telemetry_lb_backend records the backends it took out of this host's nginx.
DRAINED = Path("/etc/telemetry/containers/nginx/drained.json")
SHIPPED_PASSWORDS = Path(__file__).resolve().parents[4] / "etc/telemetry/passwords.yml"


def telemetry_ansible(host, *args: str):
    return host.run(" ".join([str(CLI), *args]))


def started_at(host) -> dict[str, str]:
    """Every telemetry container's start time, by name: what a restart changes."""
    lines = host.check_output("podman ps --filter label=telemetry.service "
                              "--format '{{.Names}} {{.StartedAt}}'")
    return dict(line.split(" ", 1) for line in lines.splitlines())


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())


def test_admin_credentials_are_written_private(passwords: dict[str, str]) -> None:
    for name in ("admin-openrc.sh", "clouds.yaml"):
        path = CONFIG_DIR / name
        assert oct(path.stat().st_mode & 0o777) == "0o600", name
        assert passwords["keystone_admin_password"] in path.read_text()
    assert "OS_AUTH_URL=http://127.0.0.1:15000/v3" in (CONFIG_DIR / "admin-openrc.sh").read_text()


def test_reconfigure_recreates_only_what_the_option_changed(host) -> None:
    before = started_at(host)
    reconfigured_at = time.time()
    result = telemetry_ansible(host, "reconfigure", "--configdir", str(CONFIG_DIR),
                               "--tags", "gnocchi", "-e", "gnocchi_api_processes=3")
    assert result.rc == 0, result.stdout[-3000:]
    assert "Why it was recreated: gnocchi-api" in result.stdout
    assert "config_hash" in result.stdout
    after = started_at(host)
    restarted = sorted(name for name in before if after.get(name) != before[name])
    # Both gnocchi-api instances read gnocchi-uwsgi.ini; nothing else does.
    assert restarted == ["gnocchi-api", "gnocchi-api-2"]
    # Each was taken out of nginx before its restart and put back after: written, and empty.
    assert DRAINED.stat().st_mtime >= reconfigured_at
    assert json.loads(DRAINED.read_text()) == []


def test_a_missing_password_fails_naming_it(host, tmp_path: Path) -> None:
    shutil.copy(SHIPPED_PASSWORDS, tmp_path / "passwords.yml")  # no value filled in
    before = started_at(host)
    result = telemetry_ansible(host, "deploy", "--configdir", str(tmp_path), "--tags", "redis")
    assert result.rc == 1
    assert "no value for" in result.stdout and "redis_password" in result.stdout
    assert started_at(host) == before


def test_an_unknown_service_switch_is_refused_and_changes_nothing(host, tmp_path: Path) -> None:
    shutil.copy(CONFIG_DIR / "passwords.yml", tmp_path / "passwords.yml")
    (tmp_path / "globals.yml").write_text("enable_gnochi_api: false\n")
    before = started_at(host)
    result = telemetry_ansible(host, "deploy", "--configdir", str(tmp_path))
    assert result.rc == 1
    assert "enable_gnochi_api switches no container" in result.stdout
    assert "refused, nothing was changed" in result.stderr
    assert "ansible-playbook" not in result.stdout
    assert started_at(host) == before


def test_destroy_needs_confirmation(host) -> None:
    before = started_at(host)
    result = telemetry_ansible(host, "destroy")
    assert result.rc == 2
    assert "--yes-i-really-really-mean-it" in result.stderr
    assert started_at(host) == before


def test_log_to_file_writes_logs_to_volumes_that_cron_rotates(host) -> None:
    # gnocchi and cron only: the rest of the stack is not recreated twice for one check.
    on = telemetry_ansible(host, "reconfigure", "--configdir", str(CONFIG_DIR),
                           "--tags", "gnocchi,cron", "-e", "log_to_file=true")
    assert on.rc == 0, on.stdout[-3000:]
    try:
        # Seed 003's rule: past 10M a log is copied, compressed and truncated (the service
        # keeps writing to the same open file).
        rotated = host.run(
            "podman exec cron sh -c 'ls /var/log/gnocchi/*.log && head -c 11000000 /dev/zero "
            ">> /var/log/gnocchi/uwsgi-gnocchi.log && /usr/sbin/logrotate --state "
            "/var/lib/logrotate/status /etc/logrotate.d/telemetry && ls -l /var/log/gnocchi'")
        assert rotated.rc == 0, rotated.stdout + rotated.stderr
        assert "uwsgi-gnocchi.log.1.gz" in rotated.stdout
        size = int(next(line.split()[4] for line in rotated.stdout.splitlines()
                        if line.endswith(" uwsgi-gnocchi.log")))
        assert size < 1_000_000, rotated.stdout
    finally:
        off = telemetry_ansible(host, "reconfigure", "--configdir", str(CONFIG_DIR),
                                "--tags", "gnocchi,cron")
    assert off.rc == 0, off.stdout[-3000:]
    assert "cron" not in host.check_output("podman ps -a --format '{{.Names}}'").split()
