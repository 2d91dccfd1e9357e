"""The filters that turn the inventory into container instances and load-balancer backends."""

from __future__ import annotations

from tests.conftest import load_ansible_file

filters = load_ansible_file("filter_plugins/telemetry.py", "telemetry_filters")

HOSTVARS = {"control01": {"api_interface_address": "10.0.0.11"},
            "control02": {"api_interface_address": "10.0.0.12",
                          "gnocchi_api_instances": ["10.0.0.12", "10.0.0.13"]}}


def test_backends_are_every_host_of_the_group_with_each_instance_address() -> None:
    backends = filters.instance_addresses(HOSTVARS, ["control01", "control02"], "gnocchi-api")
    assert backends == ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
    assert filters.instance_addresses(HOSTVARS, ["control01", "control02"], "aodh-api") == [
        "10.0.0.11", "10.0.0.12"]


def test_a_second_instance_gets_its_own_name_and_address_and_no_bootstrap() -> None:
    containers = [{"name": "gnocchi-api", "bootstrap": "gnocchi-upgrade"},
                  {"name": "gnocchi-metricd", "bootstrap": None}]
    expanded = filters.expand_instances(containers, HOSTVARS["control02"], "10.0.0.12")
    assert [(c["name"], c["listen_address"], c["first_instance"]) for c in expanded] == [
        ("gnocchi-api", "10.0.0.12", True), ("gnocchi-api-2", "10.0.0.13", False),
        ("gnocchi-metricd", "10.0.0.12", True)]
