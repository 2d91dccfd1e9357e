"""Prechecks that need no engine: globals, passwords, service switches, taken ports."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

from telemetry.catalog import load_catalog
from telemetry.deploy.prechecks import busy_ports, check_globals, check_passwords
from tests.conftest import ROOT


def test_malformed_globals_fail_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "globals.yml").write_text("log_to_file: [unclosed\n")
    result = check_globals(tmp_path)
    assert not result.ok and str(tmp_path / "globals.yml") in result.detail
    assert "not valid YAML" in result.detail


def test_an_unknown_service_switch_fails_naming_it_and_the_valid_ones(tmp_path: Path) -> None:
    (tmp_path / "globals.yml").write_text("enable_gnochi_api: false\nlog_to_file: true\n")
    result = check_globals(tmp_path)
    assert not result.ok
    assert "enable_gnochi_api switches no container" in result.detail
    assert "enable_gnocchi_api" in result.detail


def test_a_switch_must_be_a_boolean(tmp_path: Path) -> None:
    (tmp_path / "globals.yml").write_text("enable_ceilometer_compute: 'yes please'\n")
    result = check_globals(tmp_path)
    assert not result.ok and "must be true or false" in result.detail


def test_known_switches_and_plain_options_pass(tmp_path: Path) -> None:
    (tmp_path / "globals.yml").write_text("enable_ceilometer_compute: true\nlog_to_file: true\n")
    assert check_globals(tmp_path).ok


def test_a_missing_password_fails_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "passwords.yml").write_text(
        (ROOT / "etc/telemetry/passwords.yml").read_text().replace(
            "redis_password:", "redis_password: set-by-hand", 1))
    result = check_passwords(tmp_path)
    assert not result.ok and "database_password" in result.detail
    assert "redis_password" not in result.detail


def test_a_port_held_by_another_process_is_named_with_its_container() -> None:
    memcached = load_catalog().services["memcached"].containers["memcached"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        container = dataclasses.replace(memcached, ports={"memcache": taken})
        assert busy_ports([container], ours=set()) == [f"{taken} (memcached)"]
        assert busy_ports([container], ours={"memcached"}) == []
