"""Prechecks that need no engine: globals, passwords, service switches, taken ports."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from telemetry.deploy.prechecks import check_globals, check_passwords
from tests.conftest import ROOT, load_ansible_file


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
    """The host check (ansible/library/telemetry_host_checks.py) against a real listener."""
    host_checks = load_ansible_file("library/telemetry_host_checks.py", "telemetry_host_checks")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = [{"port": taken, "container": "memcached"}]
        busy = host_checks.check_ports(["127.0.0.1"], ports, set(), host_checks.tcp_open)
        assert not busy.ok and f"{taken} (memcached)" in busy.detail
        assert host_checks.check_ports(["127.0.0.1"], ports, {"memcached"},
                                       host_checks.tcp_open).ok


def test_an_unreachable_peer_and_a_clock_behind_are_named() -> None:
    host_checks = load_ansible_file("library/telemetry_host_checks.py", "telemetry_host_checks")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert host_checks.check_peers(["127.0.0.1"], port, host_checks.tcp_open).ok
    peers = host_checks.check_peers(["127.0.0.1"], port, host_checks.tcp_open)
    assert not peers.ok and "127.0.0.1" in peers.detail
    assert not host_checks.check_clock(time.time() + 60, 2).ok
    assert host_checks.check_clock(time.time(), 2).ok


def test_file_storage_with_gnocchi_on_several_hosts_is_refused_saying_what_to_set() -> None:
    from telemetry.deploy.prechecks import check_storage

    groups = {"gnocchi": ["api01", "api02"], "gnocchi-metricd": ["agents01"]}
    [refused] = check_storage(groups, {})
    assert not refused.ok
    assert "gnocchi_storage_driver is file" in refused.detail
    assert "3 hosts (agents01, api01, api02)" in refused.detail
    assert "gnocchi_storage_driver: redis" in refused.detail
    assert check_storage(groups, {"gnocchi_storage_driver": "redis"})[0].ok
    one_host = {"gnocchi": ["control01"], "gnocchi-metricd": ["control01"]}
    assert check_storage(one_host, {})[0].ok


def test_the_example_multinode_inventory_needs_shared_storage_for_its_controllers() -> None:
    from telemetry.deploy.prechecks import (
        check_inventory,
        check_quorum,
        check_storage,
        inventory_groups,
    )

    inventory = ROOT / "ansible/inventory/multinode"
    groups = inventory_groups(inventory)
    assert check_inventory(inventory, groups).ok
    assert groups["gnocchi-metricd"] == ["control01", "control02", "control03"]
    assert not check_storage(groups, {})[0].ok
    assert check_storage(groups, {"gnocchi_storage_driver": "redis"})[0].ok
    assert all(result.ok for result in check_quorum(groups))


def test_a_state_service_on_two_hosts_is_refused_saying_what_to_list() -> None:
    from telemetry.deploy.prechecks import check_quorum

    two = {"mariadb": ["c2", "c1"], "rabbitmq": ["c1", "c2", "c3"], "redis": ["c1"]}
    refused = [result for result in check_quorum(two) if not result.ok]
    assert [result.detail.split()[0] for result in refused] == ["mariadb"]
    assert "mariadb runs on 2 hosts (c1, c2)" in refused[0].detail
    assert "List 1 host, or 3 or more, in the inventory's [mariadb] group" in refused[0].detail
    assert all(result.ok for result in check_quorum({**two, "mariadb": ["c1"]}))


def test_a_galera_cluster_without_a_host_for_its_proxy_is_refused_saying_what_to_add() -> None:
    from telemetry.deploy.prechecks import check_database_proxy

    cluster = {"mariadb": ["c1", "c2", "c3"], "loadbalancer": []}
    [refused] = check_database_proxy(cluster)
    assert not refused.ok
    assert "mariadb runs on 3 hosts" in refused.detail
    assert "add a host to [loadbalancer]" in refused.detail
    [through_proxy] = check_database_proxy({**cluster, "loadbalancer": ["lb1"]})
    assert through_proxy.ok and "through the mariadb-proxy" in through_proxy.detail
    [alone] = check_database_proxy({"mariadb": ["c1"], "loadbalancer": []})
    assert alone.ok and "directly" in alone.detail
