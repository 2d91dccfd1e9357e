"""The registry generated from the catalog, and its small file of exceptions
(kubernetes/service_resources.yml), which is as strict as the catalog."""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry.catalog import load_catalog, service_order
from telemetry.cli import k8s as cli
from telemetry.k8s.generate import DAEMONSET, DEPLOYMENT, build_registry
from telemetry.k8s.registry import Registry, RegistryError, Resource, UnknownSelection
from telemetry.k8s.special import load_special, parse_special
from tests.unit.k8s_fixtures import ROOT, project, write_passwords

CATALOG = load_catalog()
SPECIAL_FILE = ROOT / "kubernetes" / "service_resources.yml"


@functools.cache
def registry() -> Registry:
    return project().registry


def of(type_: str, service: str | None = None) -> list[Resource]:
    return [r for r in registry().ordered()
            if r.type == type_ and service in (None, r.service)]


def test_services_come_in_the_catalog_order_without_the_skipped_ones() -> None:
    skipped = load_special(SPECIAL_FILE, CATALOG).skipped
    assert set(skipped) == {"toolbox", "cron"}
    assert list(registry().services) == [s for s in service_order(CATALOG) if s not in skipped]


def test_every_container_has_its_configmap_secret_and_workload() -> None:
    for service in registry().services:
        for container in CATALOG.services[service].containers.values():
            for type_ in ("configmap", "secret", "pod"):
                assert [r for r in of(type_, service) if r.vars.get("container") ==
                        container.name], (type_, container.name)


def test_workload_kinds_follow_the_catalog_group() -> None:
    kinds = {r.name: r.template for r in of("pod")}
    assert kinds["snmpd"] == kinds["ceilometer-compute"] == DAEMONSET
    assert {name for name, template in kinds.items() if template == DAEMONSET} == {
        "snmpd", "ceilometer-compute"}
    assert kinds["gnocchi-api"] == kinds["loadbalancer"] == DEPLOYMENT


def test_services_are_for_containers_with_ports_off_the_host_network() -> None:
    assert [r.name for r in of("svc")] == ["mariadb", "mariadb-proxy", "rabbitmq", "memcached",
                                           "redis", "redis-sentinel", "keystone", "gnocchi-api",
                                           "aodh-api", "ceilometer-central", "loadbalancer"]
    assert of("svc", "loadbalancer")[0].vars["service_type"] == (
        "{{ k8s_loadbalancer_service_type }}")


def test_claims_are_the_persistent_volumes() -> None:
    assert [(r.name, r.vars["volume"]) for r in of("pvc")] == [
        ("mariadb", "mariadb"), ("rabbitmq", "rabbitmq"), ("redis", "redis"),
        ("keystone-fernet", "keystone_fernet"), ("keystone-credential", "keystone_credential")]


def test_jobs_come_from_databases_keystone_and_bootstrap() -> None:
    jobs = {service: [r.name for r in of("bootstrap", service)]
            for service in registry().services}
    assert jobs["keystone"] == ["keystone-create-db", "keystone-manage-db"]
    assert jobs["gnocchi"] == ["gnocchi-create-db", "gnocchi-register", "gnocchi-manage-db",
                               "gnocchi-archive-policies"]
    assert jobs["aodh"] == ["aodh-create-db", "aodh-register", "aodh-manage-db"]
    # ceilometer has no database: its one-shot is named after its command.
    assert jobs["ceilometer"] == ["ceilometer-register", "ceilometer-upgrade"]
    assert registry().jobs_before_pods("gnocchi") == [
        "gnocchi-create-db", "gnocchi-register", "gnocchi-manage-db"]
    secrets = {r.name for r in of("secret")}
    assert {name for names in jobs.values() for name in names if "manage-db" not in name
            and name != "ceilometer-upgrade"} <= secrets


def test_logging_configmaps_are_for_services_with_a_log_dir() -> None:
    logging = {r.service: r.vars["log_dir"] for r in of("configmap") if "log_dir" in r.vars}
    assert logging == {s.name: s.log_dir for s in CATALOG.services.values()
                       if s.log_dir and s.name in registry().services}


def test_selection_lists_what_is_valid() -> None:
    with pytest.raises(UnknownSelection, match="unknown resource type 'pods'"):
        registry().select("pods", [])
    with pytest.raises(UnknownSelection, match="valid: all, services mariadb"):
        registry().select("pod", ["aodh-apii"])
    assert [r.name for r in registry().select("bootstrap", ["aodh-register"])] == [
        "aodh-register"]


# --- the exceptions file ----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "message"), [
    ({"containers": {"ngnix": {"service_type": "NodePort"}}},
     "containers.ngnix: no such container in the catalog"),
    ({"services": {"gnochi": {"skip": "x"}}}, "services.gnochi: no such service"),
    ({"services": {"gnocchi": {"jobs": [{"name": "gnocchi-x", "task": "dance",
                                         "spec": {"a": 1}}]}}},
     "key 'task' 'dance' is no telemetry.bootstrap task"),
    ({"services": {"gnocchi": {"jobs": [{"name": "policies", "task": "keystone",
                                         "spec": {"a": 1}}]}}},
     "key 'name' 'policies' must start with gnocchi-"),
    ({"services": {"aodh": {"skipp": "x"}}}, "unknown key 'skipp'; known keys: skip, jobs"),
    ({"containers": {"nginx": {"service_type": ""}}}, "must be a non-empty string"),
    ({"container": {}}, "unknown key 'container'"),
])
def test_bad_exceptions_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        parse_special(raw, CATALOG, "x.yml")


def test_two_resources_of_a_kind_may_not_share_a_name() -> None:
    raw = {"services": {"aodh": {"jobs": [{"name": "aodh-register", "task": "keystone",
                                           "spec": {"a": 1}}]}}}
    special = parse_special(raw, CATALOG)
    with pytest.raises(RegistryError, match="two secret resources are named aodh-register"):
        build_registry(CATALOG, special, project().variables.values)


def home_with_exceptions(tmp_path: Path, text: str) -> Path:
    """A project tree like the checkout's, with its own kubernetes/service_resources.yml."""
    home = tmp_path / "home"
    (home / "kubernetes").mkdir(parents=True)
    for name in ("ansible", "etc", "kolla_images", "services"):
        os.symlink(ROOT / name, home / name)
    os.symlink(ROOT / "kubernetes" / "globals.yml", home / "kubernetes" / "globals.yml")
    (home / "kubernetes" / "service_resources.yml").write_text(text)
    return home


@pytest.mark.parametrize(("text", "message"), [
    ("containers:\n  loadbalancer:\n    service_type: NodePort\n",
     "containers.loadbalancer: no such container in the catalog (a service; its "
     "containers: nginx); known: "),
    ("services: [gnocchi]\n", "key 'services' must be a mapping"),
    ("services: {gnocchi: {jobs: [{name: gnocchi-x}]}}\n", "key 'task' must be"),
    ("services: {\n", "the registry exceptions are not valid YAML at line 2"),
])
def test_a_bad_exceptions_file_is_one_line_and_exit_2(tmp_path: Path, text: str, message: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    home = home_with_exceptions(tmp_path, text)
    monkeypatch.setenv("TELEMETRY_HOME", str(home))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["resource", "template", "all", "--passwords",
                     str(write_passwords(tmp_path))], out=out, err=err)
    assert code == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"telemetry-k8s: error: {home / 'kubernetes'}"), lines[0]
    assert message in lines[0] and "Traceback" not in err.getvalue()
    assert not out.getvalue()


def test_the_exceptions_file_is_small() -> None:
    """What is generated is not written down: the file holds only the exceptions."""
    entries = yaml.safe_load(SPECIAL_FILE.read_text())
    assert set(entries) == {"services", "containers"}
    assert len([line for line in SPECIAL_FILE.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]) < 25
