from __future__ import annotations

import copy
import re

import pytest
import yaml

from telemetry.catalog import (
    CatalogError,
    CatalogVariableError,
    catalog_variables,
    default_catalog_path,
    keystone_registration,
    load_catalog,
    parse_catalog,
    resolve,
    service_order,
)


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(default_catalog_path().read_text())


def test_catalog_loads_every_service_the_stack_needs() -> None:
    catalog = load_catalog()
    assert {"aodh", "ceilometer", "gnocchi", "redis", "snmpd", "loadbalancer", "mariadb",
            "rabbitmq", "memcached", "keystone"} <= set(catalog.services)
    assert set(catalog.services["aodh"].containers) == {
        "aodh-api", "aodh-evaluator", "aodh-listener", "aodh-notifier"}
    assert set(catalog.services["ceilometer"].containers) == {
        "ceilometer-central", "ceilometer-notification", "ceilometer-compute"}
    assert set(catalog.services["gnocchi"].containers) == {"gnocchi-api", "gnocchi-metricd"}


def test_container_fields_are_resolved() -> None:
    catalog = load_catalog()
    api = catalog.services["gnocchi"].containers["gnocchi-api"]
    assert api.ports == {"gnocchi_api": 8041}
    assert api.healthcheck is not None and api.healthcheck.port == 8041
    assert api.config_files[0].dest == "/etc/gnocchi/gnocchi.conf"
    assert catalog.services["gnocchi"].depends_on == ("mariadb", "redis", "keystone")
    metricd = catalog.services["gnocchi"].containers["gnocchi-metricd"].healthcheck
    assert metricd is not None and (metricd.peer, metricd.port) == ("redis", 6379)
    assert catalog.services["ceilometer"].containers["ceilometer-compute"].enabled is False


def test_every_user_has_a_distinct_fixed_uid() -> None:
    uids = [u.uid for u in load_catalog().users.values()]
    assert len(uids) == len(set(uids))


def test_unknown_image_names_service_and_field(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["gnocchi"]["containers"]["gnocchi-api"]["image"] = "gnocchi-apii"
    with pytest.raises(CatalogError, match=r"service gnocchi, container gnocchi-api: key "
                                           r"'image' names unknown image 'gnocchi-apii'"):
        parse_catalog(broken)


def test_missing_command_is_reported(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    del broken["services"]["redis"]["containers"]["redis"]["command"]
    with pytest.raises(CatalogError, match=r"service redis, container redis: key 'command' "
                                           r"is required"):
        parse_catalog(broken)


def test_healthcheck_port_must_be_a_declared_port(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["keystone"]["containers"]["keystone"]["healthcheck"]["port"] = "admin"
    with pytest.raises(CatalogError, match=r"service keystone, container keystone, healthcheck: "
                                           r"key 'port' names 'admin'"):
        parse_catalog(broken)


def test_bad_perm_and_unknown_dependency(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["redis"]["containers"]["redis"]["config_files"][0]["perm"] = "600"
    with pytest.raises(CatalogError, match="key 'perm' must be an octal mode"):
        parse_catalog(broken)
    broken = copy.deepcopy(raw)
    broken["services"]["aodh"]["depends_on"].append("ceilometre")
    with pytest.raises(CatalogError, match="service aodh: key 'depends_on' names unknown "
                                           "service 'ceilometre'"):
        parse_catalog(broken)


def test_image_cycle_and_unknown_parent(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["images"]["openstack-base"]["parent"] = "keystone"
    with pytest.raises(CatalogError, match="cycle"):
        parse_catalog(broken)
    broken = copy.deepcopy(raw)
    broken["images"]["redis"]["parent"] = "debian"
    with pytest.raises(CatalogError, match="image redis: key 'parent' names unknown image"):
        parse_catalog(broken)


def test_profile_with_unknown_image(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["profiles"]["infra"].append("postgres")
    with pytest.raises(CatalogError, match="profile infra: unknown image 'postgres'"):
        parse_catalog(broken)


# --- strictness -----------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "typo"), [
    (("services", "gnocchi", "containers", "gnocchi-api"), "healtcheck"),
    (("services", "redis", "containers", "redis"), "volume"),
    (("services", "aodh"), "depend_on"),
    (("images", "redis"), "parnet"),
])
def test_a_typo_in_a_key_is_an_error_naming_entry_and_key(raw: dict, where: tuple[str, ...],
                                                          typo: str) -> None:
    broken = copy.deepcopy(raw)
    entry = broken
    for key in where:
        entry = entry[key]
    entry[typo] = entry.get(typo.replace("healtcheck", "healthcheck"), [])
    with pytest.raises(CatalogError, match=rf"unknown key '{typo}'; known keys: "):
        parse_catalog(broken)


def test_a_wrong_type_names_the_key(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["redis"]["containers"]["redis"]["enabled"] = "yes"
    with pytest.raises(CatalogError, match=r"service redis, container redis: key 'enabled' "
                                           r"must be true or false, got 'yes'"):
        parse_catalog(broken)
    broken = copy.deepcopy(raw)
    broken["services"]["redis"]["containers"]["redis"]["ports"]["redis"] = True
    with pytest.raises(CatalogError, match="key 'ports' entry 'redis' is not a port number"):
        parse_catalog(broken)


def test_a_healthcheck_peer_must_be_a_known_service_with_ports(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["aodh"]["containers"]["aodh-listener"]["healthcheck"]["peer"] = "rabbit"
    with pytest.raises(CatalogError, match=r"container aodh-listener, healthcheck: key 'peer' "
                                           r"names unknown service 'rabbit'"):
        parse_catalog(broken)
    broken = copy.deepcopy(raw)
    broken["services"]["aodh"]["containers"]["aodh-listener"]["healthcheck"]["peer"] = "toolbox"
    with pytest.raises(CatalogError, match="names 'toolbox', which has no ports"):
        parse_catalog(broken)


def test_an_established_check_names_a_peer_not_a_number(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["aodh"]["containers"]["aodh-listener"]["healthcheck"] = {
        "type": "established", "port": 5672}
    with pytest.raises(CatalogError, match="names the service it talks to"):
        parse_catalog(broken)


def test_port_names_are_unique_because_they_are_variables(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["aodh"]["containers"]["aodh-api"]["ports"] = {"gnocchi_api": 8042}
    broken["services"]["aodh"]["containers"]["aodh-api"]["healthcheck"]["port"] = "gnocchi_api"
    with pytest.raises(CatalogError, match="port name 'gnocchi_api' is also used by gnocchi-api"):
        parse_catalog(broken)


def test_a_dependency_cycle_is_refused(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["mariadb"]["depends_on"] = ["aodh"]
    with pytest.raises(CatalogError, match=r"makes a cycle: .*aodh.*mariadb"):
        parse_catalog(broken)


def test_the_cli_exit_code_of_a_catalog_error_is_bad_input() -> None:
    assert CatalogError("x").exit_code == 2


# --- what the engines derive ----------------------------------------------------------------


def test_one_order_dependencies_first_snmpd_before_ceilometer() -> None:
    catalog = load_catalog()
    order = service_order(catalog)
    assert sorted(order) == sorted(catalog.services)
    for service in catalog.services.values():
        for dependency in service.depends_on:
            assert order.index(dependency) < order.index(service.name), (dependency, service)
    assert order.index("snmpd") < order.index("ceilometer")


def test_derived_variables_are_the_catalog_facts() -> None:
    values = catalog_variables(load_catalog())
    assert values["gnocchi_api_port"] == 8041 and values["mariadb_port"] == 3306
    assert values["gnocchi_database_name"] == values["gnocchi_database_user"] == "gnocchi"
    assert values["aodh_keystone_user"] == "aodh"
    assert values["enable_ceilometer_compute"] is False and values["enable_gnocchi_api"] is True
    assert "/var/log/mysql/*.log" in values["logrotate_log_paths"]
    # Ansible's: the load balancer before the services that reach each other through it.
    order = service_order(load_catalog())
    ansible_order = values["telemetry_service_order"]
    assert sorted(ansible_order) == sorted(order)
    assert ansible_order.index("loadbalancer") < ansible_order.index("keystone")
    assert order.index("loadbalancer") > order.index("aodh"), "Kubernetes: after its backends"
    assert [s for s in ansible_order if s != "loadbalancer"] == [
        s for s in order if s != "loadbalancer"]


def test_a_port_override_reaches_the_port_the_healthchecks_and_the_peers() -> None:
    catalog = load_catalog()
    values = {**catalog_variables(catalog), "gnocchi_api_port": 9041, "redis_port": "6380"}
    resolved = resolve(catalog, values)
    api = resolved.services["gnocchi"].containers["gnocchi-api"]
    assert api.ports == {"gnocchi_api": 9041}
    assert api.healthcheck is not None and api.healthcheck.port == 9041
    metricd = resolved.services["gnocchi"].containers["gnocchi-metricd"]
    assert metricd.healthcheck is not None and metricd.healthcheck.port == 6380


def test_a_worker_of_the_database_counts_connections_through_its_proxy_too() -> None:
    catalog = load_catalog()
    check = catalog.services["aodh"].containers["aodh-evaluator"].healthcheck
    assert check is not None and (check.port, check.frontend_ports) == (3306, (13306,))
    values = {**catalog_variables(catalog), "mariadb_lb_port": 14306}
    resolved = resolve(catalog, values).services["aodh"].containers["aodh-evaluator"]
    assert resolved.healthcheck is not None and resolved.healthcheck.frontend_ports == (14306,)
    rabbitmq = catalog.services["aodh"].containers["aodh-listener"].healthcheck
    assert rabbitmq is not None and rabbitmq.frontend_ports == ()


def test_memcached_listens_where_the_engine_says() -> None:
    catalog = load_catalog()
    values = {**catalog_variables(catalog), "api_interface_address": "10.0.0.5",
              "memcached_port": 11311}
    ansible = resolve(catalog, values).services["memcached"].containers["memcached"]
    assert ansible.command.split()[1:3] == ["-p", "11311"]
    assert ansible.command.split()[-2:] == ["-l", "10.0.0.5"]
    kubernetes = resolve(catalog, values, "KUBERNETES").services["memcached"]
    assert kubernetes.containers["memcached"].command.endswith("-l 0.0.0.0")


def test_two_services_on_one_port_is_an_error_naming_both() -> None:
    catalog = load_catalog()
    with pytest.raises(CatalogVariableError, match="aodh_api_port is 8041, the port of "
                                                   "gnocchi_api_port too"):
        resolve(catalog, {**catalog_variables(catalog), "aodh_api_port": 8041})
    with pytest.raises(CatalogVariableError, match="gnocchi_api_port must be a port number"):
        resolve(catalog, {**catalog_variables(catalog), "gnocchi_api_port": "http"})


def test_keystone_registration_comes_from_the_catalog_entries() -> None:
    catalog = load_catalog()
    values = {**catalog_variables(catalog), "openstack_region_name": "R1",
              **{f"{s}_keystone_password": f"pw-{s}" for s in ("gnocchi", "aodh", "ceilometer")},
              **{f"{s}_{kind}_url": f"http://{s}-{kind}" for s in ("gnocchi", "aodh")
                 for kind in ("public", "internal")}}
    spec = keystone_registration(catalog, values)
    assert [u["name"] for u in spec["users"]] == ["gnocchi", "aodh", "ceilometer"]
    assert {s["name"]: s["type"] for s in spec["services"]} == {"gnocchi": "metric",
                                                                 "aodh": "alarming"}
    gnocchi = spec["services"][0]["endpoints"]
    assert gnocchi == {"public": "http://gnocchi-public", "internal": "http://gnocchi-internal",
                       "admin": "http://gnocchi-internal"}


def test_load_balancer_frontends_name_a_port_and_a_container_with_ports(raw: dict) -> None:
    nginx = ("services", "loadbalancer", "containers", "nginx")
    broken = copy.deepcopy(raw)
    broken[nginx[0]][nginx[1]][nginx[2]][nginx[3]]["frontends"]["gnocchi_lbb"] = "gnocchi-api"
    with pytest.raises(CatalogError, match="key 'frontends' names 'gnocchi_lbb', not one of"):
        parse_catalog(broken)
    broken = copy.deepcopy(raw)
    broken[nginx[0]][nginx[1]][nginx[2]][nginx[3]]["frontends"]["gnocchi_lb"] = "gnocchi-metricd"
    with pytest.raises(CatalogError, match="names 'gnocchi-metricd', which is not a container "
                                           "with ports"):
        parse_catalog(broken)


def test_frontends_are_templates_of_the_port_and_backend_variables() -> None:
    frontends = catalog_variables(load_catalog())["loadbalancer_frontends"]
    gnocchi = next(f for f in frontends if f["name"] == "gnocchi_api")
    retried = gnocchi.pop("idempotent_posts")
    assert gnocchi == {"balancer": "nginx", "name": "gnocchi_api",
                       "listen_port": "{{ gnocchi_lb_port }}",
                       "backend_port": "{{ gnocchi_api_port }}",
                       "backends": "{{ gnocchi_api_backend_addresses }}"}
    assert re.match(retried, "/v1/batch/resources/metrics/measures")
    assert re.match(retried, "/v1/metric/4f8d/measures")
    assert not re.match(retried, "/v1/metric") and not re.match(retried, "/v1/resource/generic")
    assert all(f["idempotent_posts"] == "" for f in frontends if f["name"] != "gnocchi_api"), \
        "keystone and aodh POSTs (tokens, users, alarms) are never resent"


def test_idempotent_posts_must_be_a_whole_path_regex(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["gnocchi"]["containers"]["gnocchi-api"]["idempotent_posts"] = "/v1/("
    with pytest.raises(CatalogError, match="key 'idempotent_posts' is not a regular expression"):
        parse_catalog(broken)
    broken["services"]["gnocchi"]["containers"]["gnocchi-api"]["idempotent_posts"] = "/v1/.*"
    with pytest.raises(CatalogError, match=r"must match whole paths"):
        parse_catalog(broken)


def test_a_restart_order_is_one_of_two_and_clusters_restart_one_host_at_a_time(
        raw: dict) -> None:
    catalog = load_catalog()
    assert catalog.services["mariadb"].restart == "one_host_at_a_time"
    assert catalog.services["redis"].restart == "one_host_at_a_time"
    assert catalog.services["gnocchi"].restart == "all_at_once"
    broken = copy.deepcopy(raw)
    broken["services"]["redis"]["restart"] = "rolling"
    with pytest.raises(CatalogError, match=r"service redis: key 'restart' must be all_at_once "
                                           r"or one_host_at_a_time, got 'rolling'"):
        parse_catalog(broken)
