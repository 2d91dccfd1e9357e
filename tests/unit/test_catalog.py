from __future__ import annotations

import copy

import pytest
import yaml

from telemetry.catalog import CatalogError, default_catalog_path, load_catalog, parse_catalog


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
    assert api.ports == {"gnocchi": 8041}
    assert api.healthcheck is not None and api.healthcheck.port == 8041
    assert api.config_files[0].dest == "/etc/gnocchi/gnocchi.conf"
    assert catalog.services["gnocchi"].depends_on == ("mariadb", "redis", "keystone")
    assert catalog.services["ceilometer"].containers["ceilometer-compute"].enabled is False


def test_every_user_has_a_distinct_fixed_uid() -> None:
    uids = [u.uid for u in load_catalog().users.values()]
    assert len(uids) == len(set(uids))


def test_unknown_image_names_service_and_field(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["gnocchi"]["containers"]["gnocchi-api"]["image"] = "gnocchi-apii"
    with pytest.raises(CatalogError, match=r"service gnocchi, container gnocchi-api: field "
                                           r"'image' names unknown image 'gnocchi-apii'"):
        parse_catalog(broken)


def test_missing_command_is_reported(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    del broken["services"]["redis"]["containers"]["redis"]["command"]
    with pytest.raises(CatalogError, match=r"service redis, container redis: field 'command' "
                                           r"is required"):
        parse_catalog(broken)


def test_healthcheck_port_must_be_a_declared_port(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["keystone"]["containers"]["keystone"]["healthcheck"]["port"] = "admin"
    with pytest.raises(CatalogError, match=r"service keystone, container keystone, healthcheck: "
                                           r"field 'port' names 'admin'"):
        parse_catalog(broken)


def test_bad_perm_and_unknown_dependency(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["services"]["redis"]["containers"]["redis"]["config_files"][0]["perm"] = "600"
    with pytest.raises(CatalogError, match="field 'perm' must be an octal mode"):
        parse_catalog(broken)
    broken = copy.deepcopy(raw)
    broken["services"]["aodh"]["depends_on"].append("ceilometre")
    with pytest.raises(CatalogError, match="service aodh: depends_on names unknown service "
                                           "'ceilometre'"):
        parse_catalog(broken)


def test_image_cycle_and_unknown_parent(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["images"]["openstack-base"]["parent"] = "keystone"
    with pytest.raises(CatalogError, match="cycle"):
        parse_catalog(broken)
    broken = copy.deepcopy(raw)
    broken["images"]["redis"]["parent"] = "debian"
    with pytest.raises(CatalogError, match="image redis: field 'parent' names unknown image"):
        parse_catalog(broken)


def test_profile_with_unknown_image(raw: dict) -> None:
    broken = copy.deepcopy(raw)
    broken["profiles"]["infra"].append("postgres")
    with pytest.raises(CatalogError, match="profile infra: unknown image 'postgres'"):
        parse_catalog(broken)
