"""How telemetry-k8s layers its variables over the Ansible side's, and resolves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry.k8s.variables import VariablesError, load_variables, parse_extra, resolve
from tests.unit.k8s_fixtures import ROOT, fake_passwords


def test_kubernetes_values_layer_over_the_shared_defaults() -> None:
    variables = load_variables(ROOT, fake_passwords())
    values = variables.values
    # Shared defaults come through untouched...
    assert values["aodh_api_port"] == 8042 and values["aodh_database_name"] == "aodh"
    # ...the Kubernetes layer overrides what differs...
    assert values["orchestration_engine"] == "KUBERNETES"
    # ...and deploy.yml's specs are reused, now pointing at Services, with native types.
    assert values["database_admin_spec"]["host"] == "mariadb"
    assert values["database_admin_spec"]["port"] == 3306
    assert values["keystone_admin_auth_spec"]["auth_url"] == "http://keystone:5000/v3"
    assert values["gnocchi_internal_url"] == "http://gnocchi-api:8041"


def test_an_override_of_a_base_value_reaches_what_is_built_from_it(tmp_path: Path) -> None:
    site = tmp_path / "site.yml"
    site.write_text("mariadb_service_name: db\n")
    values = load_variables(ROOT, fake_passwords(), [site]).values
    assert values["database_admin_spec"]["host"] == "db"


def test_extra_values_win_over_everything() -> None:
    values = load_variables(ROOT, fake_passwords(), extra={"k8s_namespace": "x"}).values
    assert values["k8s_namespace"] == "x"


def test_the_kubernetes_globals_copy_no_shared_value() -> None:
    """Each fact once: globals.yml only adds or changes values, never repeats one."""
    import yaml
    shared = {}
    for name in ("main.yml", "deploy.yml"):
        shared.update(yaml.safe_load((ROOT / "ansible/group_vars/all" / name).read_text()))
    k8s = yaml.safe_load((ROOT / "kubernetes/globals.yml").read_text())
    repeated = [key for key, value in k8s.items() if key in shared and shared[key] == value]
    assert not repeated


def test_every_kubernetes_option_is_commented() -> None:
    lines = (ROOT / "kubernetes/globals.yml").read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith((" ", "#", "-")) and ":" in line and line != "---":
            assert lines[index - 1].startswith("#"), f"globals.yml: {line} has no comment"


def test_passwords_are_required() -> None:
    passwords = fake_passwords()
    del passwords["snmp_community"]
    with pytest.raises(VariablesError, match="no value for snmp_community"):
        load_variables(ROOT, passwords)


def test_one_expression_keeps_its_type() -> None:
    values = resolve({"port": 3306, "spec": {"port": "{{ port }}", "url": "x:{{ port }}"},
                      "hosts": ["{{ name }}"], "name": "{{ other }}", "other": "db"}).values
    assert values["spec"] == {"port": 3306, "url": "x:3306"}
    assert values["hosts"] == ["db"]


def test_values_only_the_ansible_engine_can_resolve_are_left_out() -> None:
    resolved = resolve({"a": "{{ hostvars | missing_filter }}", "b": "{{ c }}", "c": 1})
    assert resolved.values == {"b": 1, "c": 1}
    assert "missing_filter" in resolved.unresolved["a"]


def test_extra_vars_parse_as_yaml() -> None:
    assert parse_extra(["a=2", "b=[x]", "c="]) == {"a": 2, "b": ["x"], "c": ""}
    with pytest.raises(VariablesError, match="expected KEY=VALUE"):
        parse_extra(["novalue"])


def test_the_catalog_defaults_are_the_first_layer() -> None:
    """Ports, database names, keystone users and switches come from the catalog, under
    group_vars (which no longer repeats them) and under every override."""
    variables = load_variables(ROOT, fake_passwords(), extra={"gnocchi_api_port": 9041})
    assert variables.layers[0].name == "catalog (derived defaults)"
    catalog = dict(variables.layers[0].values)
    assert catalog["keystone_public_port"] == 5000 and catalog["aodh_database_user"] == "aodh"
    assert catalog["enable_ceilometer_compute"] is False
    values = variables.values
    assert values["gnocchi_api_port"] == 9041
    assert values["gnocchi_internal_url"] == "http://gnocchi-api:9041"
    assert values["ceilometer_keystone_user"] == "ceilometer"
