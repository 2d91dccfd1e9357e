"""The upgrade's rules, decided before anything changes: deploy keeps a release, upgrade moves
one step the catalog allows, nothing goes back; and `upgrade --check`'s plan per container."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from telemetry.catalog import CatalogError, default_catalog_path, load_catalog, parse_catalog
from telemetry.deploy.upgrade import (
    RunningContainer,
    format_plan,
    release_problem,
    upgrade_plan,
    wanted_image,
)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(Path(default_catalog_path()).read_text())


def running(release: str, *names: str) -> list[RunningContainer]:
    catalog = load_catalog()
    tag = catalog.releases[release].tag
    return [RunningContainer(name=name, service=(catalog_entry := catalog.container(
        name.removesuffix("-2"))).service, image=f"telemetry/{catalog_entry.image}:{tag}",
        image_id=f"id-{name}-{tag}", release=catalog.releases[release]) for name in names]


def test_deploy_refuses_to_cross_releases_and_says_to_upgrade() -> None:
    catalog = load_catalog()
    problem = release_problem(catalog, running("bookworm", "mariadb"),
                              catalog.release("trixie"), upgrading=False)
    assert problem and "run telemetry-ansible upgrade" in problem
    assert "telemetry_base_release: bookworm to stay" in problem
    assert release_problem(catalog, running("bookworm", "mariadb"),
                           catalog.release("bookworm"), upgrading=False) is None


def test_upgrade_takes_zed_and_a_half_upgraded_host_forward() -> None:
    catalog = load_catalog()
    half = running("trixie", "mariadb") + running("bookworm", "keystone")
    assert release_problem(catalog, half, catalog.release("trixie"), upgrading=True) is None
    assert release_problem(catalog, [], catalog.release("trixie"), upgrading=True) is None


def test_a_downgrade_is_refused_with_what_to_do() -> None:
    catalog = load_catalog()
    for upgrading in (True, False):
        problem = release_problem(catalog, running("trixie", "mariadb"),
                                  catalog.release("bookworm"), upgrading)
        assert problem and "a downgrade is not possible" in problem
        assert "telemetry_base_release: trixie" in problem


def test_a_jump_the_catalog_does_not_list_is_refused_naming_the_step_between(
        raw: dict) -> None:
    edited = copy.deepcopy(raw)
    edited["releases"]["forky"] = {"openstack": "2026.1", "upgrade_from": ["trixie"]}
    catalog = parse_catalog(edited)
    zed = [RunningContainer("mariadb", "mariadb", "telemetry/mariadb:zed", "x",
                            catalog.releases["bookworm"])]
    problem = release_problem(catalog, zed, catalog.release("forky"), upgrading=True)
    assert problem and "cannot upgrade OpenStack zed (bookworm) to 2026.1 in one step" in problem
    assert "upgrade to trixie first" in problem


def test_upgrade_from_must_name_an_older_release(raw: dict) -> None:
    edited = copy.deepcopy(raw)
    edited["releases"]["bookworm"]["upgrade_from"] = ["trixie"]
    with pytest.raises(CatalogError, match="release bookworm: key 'upgrade_from' names 'trixie'"):
        parse_catalog(edited)


def test_reset_state_must_lie_in_a_volume(raw: dict) -> None:
    edited = copy.deepcopy(raw)
    edited["services"]["rabbitmq"]["containers"]["rabbitmq"]["upgrade"]["reset_state"] = "/etc"
    with pytest.raises(CatalogError, match="container rabbitmq, upgrade: key 'reset_state'"):
        parse_catalog(edited)


def test_the_plan_names_each_step_from_the_catalog() -> None:
    catalog = load_catalog()
    target = catalog.release("trixie")
    zed = running("bookworm", "mariadb", "rabbitmq", "keystone", "gnocchi-api", "gnocchi-api-2")
    ids = {wanted_image(c.image, target): f"new-{c.name}" for c in zed}
    plan = {p.name: p.steps for p in upgrade_plan(catalog, zed, target, ids).containers}
    assert plan["mariadb"] == ("recreate", "finalize: mariadb-upgrade --user=mysql")
    assert plan["rabbitmq"] == ("drain", "reset /var/lib/rabbitmq/mnesia", "recreate")
    assert plan["keystone"][0] == "migrate: /etc/keystone/keystone-bootstrap.sh"
    assert plan["keystone"][-1].endswith("db_sync --contract")
    assert plan["gnocchi-api"] == ("migrate: gnocchi-upgrade", "recreate")
    assert plan["gnocchi-api-2"] == ("recreate",), "only the first instance migrates"


def test_a_second_plan_changes_nothing_and_a_missing_image_is_named() -> None:
    catalog = load_catalog()
    target = catalog.release("trixie")
    done = running("trixie", "mariadb", "redis")
    ids = {done[0].image: done[0].image_id, done[1].image: None}
    plan = upgrade_plan(catalog, done, target, ids)
    assert plan.containers[0].steps == ()
    assert plan.missing_images == ("telemetry/redis:2025.1",)
    text = format_plan(plan)
    assert "0 of 2 containers change image" in text
    assert "telemetry-build --base-release trixie" in text


def test_the_release_features_are_switches_off_by_default() -> None:
    from telemetry.catalog import catalog_variables

    catalog = load_catalog()
    assert catalog.releases["trixie"].features == ("keystone_service_role",
                                                   "ceilometer_prometheus_exporter")
    assert catalog.releases["bookworm"].features == ()
    values = catalog_variables(catalog)
    assert values["enable_keystone_service_role"] is False
    assert values["enable_ceilometer_prometheus_exporter"] is False


def test_a_feature_on_a_release_without_it_is_refused() -> None:
    from telemetry.deploy.prechecks import catalog_problems, switch_problems

    zed = {"telemetry_base_release": "bookworm", "enable_keystone_service_role": True}
    problems = catalog_problems(zed)
    assert problems and "enable_keystone_service_role needs a release that has it (trixie)" \
        in problems[0] and "telemetry_base_release is bookworm" in problems[0]
    flamingo = {"enable_keystone_service_role": True,
                "enable_ceilometer_prometheus_exporter": True}
    assert catalog_problems(flamingo) == [] and switch_problems(flamingo) == []


def test_the_service_role_feature_gives_the_service_users_service_instead_of_admin() -> None:
    from telemetry.catalog import catalog_variables, keystone_registration

    catalog = load_catalog()
    values = {**catalog_variables(catalog), "openstack_region_name": "RegionOne",
              **{f"{s}_{kind}_url": "http://x" for s in ("gnocchi", "aodh")
                 for kind in ("public", "internal")},
              **{f"{s}_keystone_password": "p" for s in ("gnocchi", "aodh", "ceilometer")}}
    assert {tuple(u["roles"]) for u in keystone_registration(catalog, values)["users"]} == {
        ("admin",)}
    values["enable_keystone_service_role"] = True
    roles = {u["name"]: u["roles"] for u in keystone_registration(catalog, values)["users"]}
    assert roles == {"gnocchi": ["service"], "aodh": ["service"], "ceilometer": ["admin"]}
