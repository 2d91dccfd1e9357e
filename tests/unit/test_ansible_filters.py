"""The Ansible plugins that turn the catalog and the inventory into this host's containers,
load-balancer backends and the deploy order."""

from __future__ import annotations

from typing import Any

from telemetry.catalog import catalog_variables, load_catalog
from tests.conftest import load_ansible_file

filters = load_ansible_file("filter_plugins/telemetry.py", "telemetry_filters")
lookup = load_ansible_file("lookup_plugins/telemetry_catalog.py", "telemetry_catalog_lookup")

HOSTVARS = {"control01": {"api_interface_address": "10.0.0.11"},
            "control02": {"api_interface_address": "10.0.0.12",
                          "gnocchi_api_instances": ["10.0.0.12", "10.0.0.13"]}}
CONTROL = ["control01", "control02"]
# The inventory's role groups, and every catalog group on the control hosts (as
# ansible/inventory/service-groups places them).
GROUPS = {"all": [*CONTROL, "compute01"], "control": CONTROL, "compute": ["compute01"],
          **{c.group: CONTROL for c in load_catalog().containers()
             if c.group not in ("all", "compute", "loadbalancer")}}


def _host_values(host: str, **overrides: Any) -> dict[str, Any]:
    catalog = load_catalog()
    return {**catalog_variables(catalog), **HOSTVARS.get(host, {"api_interface_address": "x"}),
            "inventory_hostname": host, "groups": GROUPS, **overrides}


def test_backends_are_every_host_of_the_group_with_each_instance_address() -> None:
    backends = filters.instance_addresses(HOSTVARS, ["control01", "control02"], "gnocchi-api")
    assert backends == ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
    assert filters.instance_addresses(HOSTVARS, ["control01", "control02"], "aodh-api") == [
        "10.0.0.11", "10.0.0.12"]


def test_a_second_instance_gets_its_own_name_and_address_and_no_bootstrap() -> None:
    expanded = lookup._host_containers(load_catalog(), "gnocchi", _host_values("control02"))
    assert [(c["name"], c["listen_address"], c["first_instance"]) for c in expanded] == [
        ("gnocchi-api", "10.0.0.12", True), ("gnocchi-api-2", "10.0.0.13", False),
        ("gnocchi-metricd", "10.0.0.12", True)]


def test_a_backend_knows_the_balancer_server_a_restart_drains() -> None:
    values = _host_values("control02", gnocchi_api_port=9041)
    expanded = lookup._host_containers(load_catalog(), "gnocchi", values)
    balanced = {c["name"]: c["balanced_by"] for c in expanded}
    assert balanced["gnocchi-api"] == {
        "container": "nginx", "group": "loadbalancer", "config_src": "nginx.conf",
        "config_dest": "/etc/nginx/nginx.conf", "server": "10.0.0.12:9041"}
    assert balanced["gnocchi-api-2"]["server"] == "10.0.0.13:9041"
    assert balanced["gnocchi-metricd"] is None


def test_an_agent_moved_to_its_own_host_leaves_the_api_hosts() -> None:
    groups = {**GROUPS, "gnocchi-metricd": ["agents01"], "all": [*GROUPS["all"], "agents01"]}
    catalog = load_catalog()
    api_host = lookup._host_containers(catalog, "gnocchi", _host_values("control01",
                                                                        groups=groups))
    agent_host = lookup._host_containers(catalog, "gnocchi", _host_values("agents01",
                                                                          groups=groups))
    assert [c["name"] for c in api_host] == ["gnocchi-api"]
    assert [c["name"] for c in agent_host] == ["gnocchi-metricd"]


def test_containers_follow_placement_and_switches() -> None:
    catalog = load_catalog()
    assert lookup._host_containers(catalog, "mariadb", _host_values("compute01")) == []
    assert [c["name"] for c in lookup._host_containers(
        catalog, "snmpd", _host_values("compute01"))] == ["snmpd"]
    ceilometer = lookup._host_containers(catalog, "ceilometer", _host_values(
        "compute01", enable_ceilometer_compute=True))
    assert [c["name"] for c in ceilometer] == ["ceilometer-compute"]
    aodh = lookup._host_containers(catalog, "aodh", _host_values(
        "control01", enable_aodh_listener=False))
    assert "aodh-listener" not in [c["name"] for c in aodh]


def test_one_port_override_reaches_the_container_and_its_healthcheck() -> None:
    values = _host_values("control01", gnocchi_api_port=9041)
    api = lookup._host_containers(load_catalog(), "gnocchi", values)[0]
    assert api["ports"] == {"gnocchi_api": 9041}
    check = filters.engine_healthcheck(api["healthcheck"], api["listen_address"])
    assert check["test"][-1] == "http://10.0.0.11:9041/healthcheck"


def test_the_cron_container_mounts_every_services_logs() -> None:
    cron = lookup._host_containers(load_catalog(), "cron", _host_values(
        "control01", enable_cron=True))[0]
    assert "gnocchi_logs:/var/log/gnocchi" in cron["volumes"]
    assert "mariadb_logs:/var/log/mysql" in cron["volumes"]


def test_tags_select_services_of_the_order() -> None:
    order = ["mariadb", "keystone", "gnocchi"]
    assert filters.selected_services(order, ["all"], []) == order
    assert filters.selected_services(order, ["gnocchi", "mariadb"], []) == ["mariadb", "gnocchi"]
    assert filters.selected_services(order, ["all"], ["keystone"]) == ["mariadb", "gnocchi"]
