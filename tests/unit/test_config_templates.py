"""The config templates under ansible/roles/*/templates, rendered as both engines render them.

Every template goes through the project's own templating module (sandboxed, StrictUndefined)
with ansible/group_vars/all/main.yml plus fake secrets for every key of etc/telemetry/passwords.yml,
once per engine (orchestration_engine ANSIBLE and KUBERNETES). Values the deploy engine derives
in ansible/group_vars/all/*.yml ("{{ }}" expressions) are resolved as Ansible would, lazily.
"""

from __future__ import annotations

import configparser
import copy
import dataclasses
import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jinja2
import jinja2.meta
import pytest
import yaml

from telemetry.catalog import catalog_variables, load_catalog
from telemetry.templating import TemplateError, make_environment, render
from tests.conftest import load_ansible_file

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "ansible" / "roles"
GROUP_VARS = ROOT / "ansible" / "group_vars" / "all" / "main.yml"
GROUP_VARS_DIR = ROOT / "ansible" / "group_vars" / "all"
PASSWORDS = ROOT / "etc" / "telemetry" / "passwords.yml"
TEMPLATES = sorted(ROLES.glob("*/templates/*.j2"))
# Templates that switch on the engine (the others render the same under both).
ENGINE_TEMPLATES = [p for p in TEMPLATES if "orchestration_engine" in p.read_text()]
ENGINES = ("ANSIBLE", "KUBERNETES")

# Seed 003's full gnocchi.conf, section by section.
SEED_GNOCCHI_SECTIONS = {
    "DEFAULT", "api", "archive_policy", "cors", "healthcheck", "incoming", "indexer", "metricd",
    "oslo_middleware", "oslo_policy", "statsd", "storage", "keystone_authtoken"}

# Distinct addresses and Service names, so a test can tell which one a template used.
HOST = "192.0.2.10"
ANSIBLE_PEERS = {
    "api_interface_address": HOST,
    "mariadb_address": "192.0.2.21",
    # deploy.yml's: mariadb_address and mariadb_port where the mariadb group is one host.
    "database_address": "192.0.2.21",
    "database_port": 3306,
    "mariadb_backend_addresses": ["192.0.2.21"],
    "mariadb_cluster_addresses": ["192.0.2.21"],
    "redis_address": "192.0.2.51",
    "rabbitmq_addresses": ["192.0.2.31", "192.0.2.32"],
    "memcached_addresses": ["192.0.2.41", "192.0.2.42"],
    "keystone_backend_addresses": ["192.0.2.71", "192.0.2.72"],
    "gnocchi_api_backend_addresses": ["192.0.2.81", "192.0.2.82"],
    "aodh_api_backend_addresses": ["192.0.2.91", "192.0.2.92"],
    # Node addresses: used by both engines, so outside 192.0.2.0/24.
    "snmp_target_addresses": ["198.51.100.1", "198.51.100.2"],
    "snmp_source_network": "198.51.100.0/24",
}
SERVICE_NAMES = {
    "mariadb_service_name": "svc-mariadb",
    "rabbitmq_service_name": "svc-rabbitmq",
    "memcached_service_name": "svc-memcached",
    "redis_service_name": "svc-redis",
    "keystone_service_name": "svc-keystone",
    "gnocchi_api_service_name": "svc-gnocchi-api",
    "aodh_api_service_name": "svc-aodh-api",
}

# Where each template binds, as (regex capturing the address, port variable).
LISTEN_DIRECTIVES = {
    "my.cnf.j2": (r"^bind-address = (\S+)$", "mariadb_port"),
    "rabbitmq.conf.j2": (r"^listeners\.tcp\.1 = (\S+):(\d+)$", "rabbitmq_port"),
    "redis.conf.j2": (r"^bind (\S+)$", "redis_port"),
    "keystone-uwsgi.ini.j2": (r"^http-socket = (\S+):(\d+)$", "keystone_public_port"),
    "gnocchi-uwsgi.ini.j2": (r"^http-socket = (\S+):(\d+)$", "gnocchi_api_port"),
    "aodh-uwsgi.ini.j2": (r"^http-socket = (\S+):(\d+)$", "aodh_api_port"),
    "gnocchi.conf.j2": (r"^host = (\S+)$", "gnocchi_api_port"),
    "aodh.conf.j2": (r"^host = (\S+)$", "aodh_api_port"),
    "snmpd.conf.j2": (r"^agentAddress udp:(\S+):(\d+)$", "snmp_port"),
    "nginx.conf.j2": (r"^\s*listen (\S+):(\d+);$", "gnocchi_lb_port"),
}


def _template_defaults() -> dict[str, Any]:
    """The catalog's derived defaults under all/main.yml: the templates' variables, plain
    values only (the vars plugin gives Ansible the first, telemetry-k8s layers them first)."""
    return {**catalog_variables(load_catalog()), **copy.deepcopy(_load_yaml(GROUP_VARS))}


def _group_vars() -> dict[str, Any]:
    """Every group variable of `all` as Ansible loads them: what the catalog's vars plugin
    derives, then all/main.yml, then all/*.yml."""
    plugin = load_ansible_file("vars_plugins/telemetry_catalog.py", "telemetry_vars_plugin")
    variables = {**plugin._catalog_variables(), **_template_defaults()}
    seen = {GROUP_VARS.resolve()}
    for path in sorted(GROUP_VARS_DIR.glob("*.y*ml")):
        if path.resolve() not in seen:
            seen.add(path.resolve())
            variables.update(copy.deepcopy(_load_yaml(path)) or {})
    return {**variables, **copy.deepcopy(ALL_IN_ONE)}


def _ansible_filters() -> dict[str, Any]:
    """The repository's own filter plugins, which group variable values use."""
    module = load_ansible_file("filter_plugins/telemetry.py", "telemetry_filters")
    return module.FilterModule().filters()


def _lookup(plugin: str, *terms: str) -> Any:
    """Ansible's lookup() for the one lookup plugin group variables use: the catalog."""
    assert plugin == "telemetry_catalog", plugin
    return dataclasses.asdict(load_catalog().services[terms[0]])


# The all-in-one inventory as Ansible shows it to group variables (groups, hostvars).
ALL_IN_ONE = {"groups": {group: ["localhost"] for group in
                         ("all", "control", "compute", "monitoring", "loadbalancer",
                          *(c.group for c in load_catalog().containers()))},
              "hostvars": {"localhost": {"api_interface_address": "127.0.0.1",
                                         "gnocchi_api_instances": ["127.0.0.1", "127.0.0.2"]}}}


@functools.cache
def _ansible_environment() -> jinja2.Environment:
    """What group variable values are templated with: Jinja plus Ansible's lookup and filters."""
    env = make_environment([ROLES])
    env.filters.update(_ansible_filters())
    env.globals["lookup"] = _lookup
    return env


@functools.cache
def _compiled(source: str) -> jinja2.Template:
    return _ansible_environment().from_string(source)


def _resolve(variables: dict[str, Any]) -> dict[str, Any]:
    """Template "{{ }}" values against the others, as Ansible does lazily; a value that cannot
    be resolved (it needs a dropped secret, or an Ansible-only filter) is left out, so only a
    template that uses it fails."""
    pending = {key for key, value in variables.items() if "{{" in repr(value)}

    def resolved(value: Any) -> Any:
        reference = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", value) if isinstance(value, str) else None
        if reference and reference.group(1) in variables:
            return variables[reference.group(1)]  # "{{ x }}" is x itself, a list stays a list
        expression = re.fullmatch(r"\{\{(.*)\}\}", value, re.S) if isinstance(value, str) \
            else None
        if expression and "{{" not in expression.group(1):
            # One expression: its native value, as Ansible's templating gives (a list).
            return _ansible_environment().compile_expression(expression.group(1))(**variables)
        if isinstance(value, str) and "{{" in value:
            return _compiled(value).render(**variables)
        if isinstance(value, dict):
            return {key: resolved(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolved(item) for item in value]
        return value

    for _ in range(10):
        for key in sorted(pending):
            if (_variables_in_values(variables[key]) & pending) - {key}:
                continue  # what it is made of is not resolved yet
            try:
                variables[key] = resolved(variables[key])
            except (jinja2.TemplateError, TypeError):
                continue
            if "{{" not in repr(variables[key]):
                pending.discard(key)
    for key in pending:
        del variables[key]
    return variables


def _password_keys() -> list[str]:
    return list(_load_yaml(PASSWORDS))


@functools.cache
def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@functools.cache
def _environment(directory: Path) -> jinja2.Environment:
    """One environment per role, as Ansible's template search path; it caches compiled templates."""
    return make_environment([directory])


def _fake_secret(key: str) -> str:
    """A distinct letters-and-digits value per key, like telemetry-genpwd's."""
    return "Fake" + hashlib.sha256(key.encode()).hexdigest()[:20]


def _secrets() -> dict[str, str]:
    return {key: _fake_secret(key) for key in _password_keys()}


def _template(name: str) -> Path:
    matches = [path for path in TEMPLATES if path.name == name]
    assert len(matches) == 1, f"{name}: expected one template, found {matches}"
    return matches[0]


def _render(name: str, engine: str = "ANSIBLE", drop: tuple[str, ...] = (),
            **overrides: Any) -> str:
    path = _template(name)
    variables = {**_group_vars(), **_secrets(), "orchestration_engine": engine, **overrides}
    for key in drop:
        del variables[key]
    _resolve(variables)
    return render(_environment(path.parent), path.name, variables)


def _ini(text: str, *, allow_no_value: bool = False) -> configparser.ConfigParser:
    # oslo.config has no inherited defaults: [DEFAULT] is a section like the others here.
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",),
                                       allow_no_value=allow_no_value, strict=True,
                                       default_section="\0no-default-section")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


@functools.cache
def _referenced_variables(path: Path) -> frozenset[str]:
    env = _environment(path.parent)
    return frozenset(jinja2.meta.find_undeclared_variables(env.parse(path.read_text())))


def _variables_in_values(value: Any) -> set[str]:
    """The variables the "{{ }}" expressions inside group variable values use."""
    if isinstance(value, str):
        env = _ansible_environment()
        return set(jinja2.meta.find_undeclared_variables(env.parse(value)))
    if isinstance(value, dict):
        return set().union(set(), *(_variables_in_values(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_variables_in_values(item) for item in value))
    return set()


def _templates_using(key: str) -> list[Path]:
    return [path for path in TEMPLATES if key in _referenced_variables(path)]


def _redis_url_parts(url: str) -> tuple[str | None, str | None, int | None, dict[str, list[str]]]:
    parts = urlsplit(url)
    password = unquote(parts.password) if parts.password is not None else None
    return password, parts.hostname, parts.port, parse_qs(parts.query)


# --- every template ------------------------------------------------------------------------


def test_the_roles_hold_the_templates() -> None:
    assert len(TEMPLATES) >= 17, [p.relative_to(ROOT) for p in TEMPLATES]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_template_renders_to_a_valid_file(path: Path, engine: str) -> None:
    text = _render(path.name, engine)
    assert text.strip(), f"{path.name} rendered empty"
    for leftover in ("{{", "{%", "{#", "None"):
        assert leftover not in text, f"{path.name}: {leftover!r} left in the output"
    name = path.name.removesuffix(".j2")
    if name.endswith(".json"):
        json.loads(text)
    elif name.endswith(".yaml"):
        assert isinstance(yaml.safe_load(text), dict)
    elif name.endswith((".conf", ".ini", ".cnf")) and name not in (
            "redis.conf", "sentinel.conf", "snmpd.conf", "nginx.conf", "nginx-mariadb.conf",
            "logrotate.conf", "rabbitmq.conf", "rabbitmq-env.conf"):
        assert _ini(text, allow_no_value=name == "my.cnf").sections()


def test_templates_use_only_variables_that_have_a_default_or_a_password_key() -> None:
    known = set(_group_vars()) | set(_password_keys())
    for path in TEMPLATES:
        unknown = _referenced_variables(path) - known
        assert not unknown, f"{path.relative_to(ROOT)} uses undefined variables {unknown}"


def test_every_password_key_is_used_and_no_secret_has_a_default() -> None:
    group_vars = _group_vars()
    passwords = _load_yaml(PASSWORDS)
    assert all(value in (None, "") for value in passwords.values()), "passwords.yml ships empty"
    assert not set(group_vars) & set(passwords)
    secretish = re.compile(r"(password|secret|cookie|community|_key)$")
    assert not [key for key in group_vars if secretish.search(key)], "secrets go in passwords.yml"
    used = set().union(*(_referenced_variables(path) for path in TEMPLATES))
    assert {v for v in used if secretish.search(v)} <= set(passwords)
    derived = _variables_in_values(_group_vars())
    assert set(passwords) <= used | derived, f"unused keys {set(passwords) - used - derived}"


@pytest.mark.parametrize("key", _password_keys())
@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_secret_is_an_error_naming_it(key: str, engine: str) -> None:
    users = _templates_using(key)
    assert users, f"no template uses {key}"
    for path in users:
        with pytest.raises(TemplateError, match=re.escape(key)):
            _render(path.name, engine, drop=(key,))


@pytest.mark.parametrize("engine", ENGINES)
def test_no_template_carries_a_literal_secret_or_a_default_for_one(engine: str) -> None:
    for path in TEMPLATES:
        source = path.read_text()
        for key in _password_keys():
            assert not re.search(rf"{key}\s*\|\s*default", source), f"{path.name}: default {key}"
        text = _render(path.name, engine)
        for seed_secret in ("comleader", "<PASSWORD>", "protected-mode no"):
            assert seed_secret not in text, f"{path.name}: {seed_secret!r}"


@pytest.mark.parametrize("path", ENGINE_TEMPLATES, ids=lambda p: p.name)
def test_an_unknown_engine_is_refused(path: Path) -> None:
    with pytest.raises(TemplateError, match="must_be_ANSIBLE_or_KUBERNETES"):
        _render(path.name, "DOCKER")


# --- ANSIBLE vs KUBERNETES (seed 002) ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LISTEN_DIRECTIVES))
def test_ansible_listens_on_the_host_address_kubernetes_on_all_interfaces(name: str) -> None:
    pattern, port_variable = LISTEN_DIRECTIVES[name]
    port = str(_group_vars()[port_variable])
    for engine, expected in (("ANSIBLE", HOST), ("KUBERNETES", "0.0.0.0")):
        text = _render(name, engine, **ANSIBLE_PEERS, **SERVICE_NAMES)
        found = re.findall(pattern, text, re.MULTILINE)
        assert found, f"{name} ({engine}): no listen directive"
        addresses = {match[0] if isinstance(match, tuple) else match for match in found}
        assert addresses == {expected}, f"{name} ({engine}) listens on {addresses}"
        if isinstance(found[0], tuple):
            assert port in {match[1] for match in found}
        # Seed 002 FAQ 4: binding a Service name binds its cluster IP, which no pod has.
        assert not any(service in addresses for service in SERVICE_NAMES.values())


@pytest.mark.parametrize("path", ENGINE_TEMPLATES, ids=lambda p: p.name)
def test_each_engine_uses_only_its_own_way_to_reach_services(path: Path) -> None:
    ansible = _render(path.name, "ANSIBLE", **ANSIBLE_PEERS, **SERVICE_NAMES)
    kubernetes = _render(path.name, "KUBERNETES",
                         **{**ANSIBLE_PEERS, **_kubernetes_backends()}, **SERVICE_NAMES)
    assert "svc-" not in ansible and "0.0.0.0" not in ansible
    assert "192.0.2." not in kubernetes


def test_aodh_reaches_its_peers_by_address_or_service_name() -> None:
    ansible = _ini(_render("aodh.conf.j2", "ANSIBLE", **ANSIBLE_PEERS, **SERVICE_NAMES))
    kubernetes = _ini(_render("aodh.conf.j2", "KUBERNETES", **ANSIBLE_PEERS, **SERVICE_NAMES))
    secret = _fake_secret("rabbitmq_password")
    assert ansible["DEFAULT"]["transport_url"] == (
        f"rabbit://openstack:{secret}@192.0.2.31:5672,openstack:{secret}@192.0.2.32:5672//")
    assert kubernetes["DEFAULT"]["transport_url"] == f"rabbit://openstack:{secret}@svc-rabbitmq:5672//"
    assert "@192.0.2.21:3306/aodh" in ansible["database"]["connection"]
    assert "@svc-mariadb:3306/aodh" in kubernetes["database"]["connection"]
    assert ansible["keystone_authtoken"]["memcached_servers"] == "192.0.2.41:11211,192.0.2.42:11211"
    assert kubernetes["keystone_authtoken"]["memcached_servers"] == "svc-memcached:11211"
    # Keystone through its internal endpoint: the load balancer (its Service under Kubernetes,
    # kubernetes/globals.yml), so losing one keystone host costs the services nothing.
    assert ansible["service_credentials"]["auth_url"] == "http://127.0.0.1:15000/v3"
    for conf in (ansible, kubernetes):
        assert conf["service_credentials"]["region_name"] == "RegionOne"
        assert conf["keystone_authtoken"]["password"] == _fake_secret("aodh_keystone_password")


def test_default_service_names_are_the_kubernetes_services() -> None:
    conf = _ini(_render("gnocchi.conf.j2", "KUBERNETES"))
    _, host, port, _ = _redis_url_parts(conf["DEFAULT"]["coordination_url"])
    assert (host, port) == ("redis", 6379)
    assert "@mariadb:3306/gnocchi" in conf["indexer"]["url"]


# --- gnocchi (seed 003) ---------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_gnocchi_conf_has_every_section_of_seed_003(engine: str) -> None:
    conf = _ini(_render("gnocchi.conf.j2", engine))
    assert set(conf.sections()) >= SEED_GNOCCHI_SECTIONS
    methods = conf["archive_policy"]["default_aggregation_methods"].split(",")
    assert "rate:mean" in methods and "mean" in methods
    redis_password = _fake_secret("redis_password")
    for url in (conf["DEFAULT"]["coordination_url"], conf["incoming"]["redis_url"]):
        password, _, port, query = _redis_url_parts(url)
        assert password == redis_password, url
        assert port == 6379 and query == {"db": ["5"]}
    assert conf["indexer"]["url"].startswith(
        f"mysql+pymysql://gnocchi:{_fake_secret('gnocchi_database_password')}@")
    assert dict(conf["metricd"]) == {
        "workers": "6", "metric_processing_delay": "60", "greedy": "false",
        "metric_reporting_delay": "120", "metric_cleanup_delay": "300",
        "processing_replicas": "1"}
    assert conf["api"]["auth_mode"] == "keystone" and conf["api"]["port"] == "8041"
    authtoken = conf["keystone_authtoken"]
    assert authtoken["interface"] == "internal"
    assert authtoken["region_name"] == "RegionOne"
    assert authtoken["service_token_roles_required"] == "true"
    assert authtoken["password"] == _fake_secret("gnocchi_keystone_password")
    assert dict(conf["storage"]) == {"driver": "file", "file_basepath": "/var/lib/gnocchi"}


def test_gnocchi_redis_storage_driver_carries_the_password() -> None:
    conf = _ini(_render("gnocchi.conf.j2", gnocchi_storage_driver="redis"))
    assert conf["storage"]["driver"] == "redis"
    assert _redis_url_parts(conf["storage"]["redis_url"])[0] == _fake_secret("redis_password")
    with pytest.raises(TemplateError, match="must_be_file_or_redis"):
        _render("gnocchi.conf.j2", gnocchi_storage_driver="ceph")


def test_passwords_with_url_characters_are_encoded_in_urls() -> None:
    # Seed 003's `comleader@123` broke its own indexer URL; any character must survive.
    awkward = "p@ss:w/r d%#?"
    conf = _ini(_render("gnocchi.conf.j2", redis_password=awkward,
                        gnocchi_database_password=awkward))
    assert _redis_url_parts(conf["DEFAULT"]["coordination_url"])[0] == awkward
    assert unquote(urlsplit(conf["indexer"]["url"]).password or "") == awkward
    transport = _ini(_render("ceilometer.conf.j2", rabbitmq_password=awkward))
    assert unquote(urlsplit(transport["DEFAULT"]["transport_url"]).password or "") == awkward


def test_gnocchi_cors_origins_are_optional() -> None:
    assert not dict(_ini(_render("gnocchi.conf.j2"))["cors"])
    conf = _ini(_render("gnocchi.conf.j2", gnocchi_cors_allowed_origins=["http://a:3000",
                                                                         "http://b:3000"]))
    assert conf["cors"]["allowed_origin"] == "http://a:3000,http://b:3000"


def test_gnocchi_uwsgi_has_seed_003_tuning() -> None:
    uwsgi = _ini(_render("gnocchi-uwsgi.ini.j2"))["uwsgi"]
    assert uwsgi["plugins"] == "python3"
    assert uwsgi["wsgi-file"] == "/usr/lib/python3/dist-packages/gnocchi/rest/wsgi.py"
    assert (uwsgi["listen"], uwsgi["processes"], uwsgi["threads"]) == ("4096", "8", "10")
    assert (uwsgi["buffer-size"], uwsgi["max-requests"], uwsgi["socket-timeout"]) == (
        "65535", "4000", "60")


@pytest.mark.parametrize("name, wsgi_file", [
    ("keystone-uwsgi.ini.j2", "/usr/bin/keystone-wsgi-public"),
    ("gnocchi-uwsgi.ini.j2", "/usr/lib/python3/dist-packages/gnocchi/rest/wsgi.py"),
    ("aodh-uwsgi.ini.j2", "/usr/share/aodh-common/app.wsgi"),
])
def test_uwsgi_inis_run_in_a_container(name: str, wsgi_file: str) -> None:
    uwsgi = _ini(_render(name))["uwsgi"]
    assert uwsgi["plugins"] == "python3" and uwsgi["wsgi-file"] == wsgi_file
    assert uwsgi["add-header"] == "Connection: close"
    assert "logto" not in uwsgi and "daemonize" not in uwsgi
    assert "logto" in _ini(_render(name, log_to_file=True))["uwsgi"]


# --- the other services -------------------------------------------------------------------------


def test_keystone_conf_uses_fernet_memcached_and_its_database() -> None:
    conf = _ini(_render("keystone.conf.j2", **ANSIBLE_PEERS))
    assert conf["token"]["provider"] == "fernet"
    assert conf["fernet_tokens"]["key_repository"] == "/etc/keystone/fernet-keys/"
    assert conf["cache"]["enabled"] == "true"
    assert conf["cache"]["memcache_servers"] == "192.0.2.41:11211,192.0.2.42:11211"
    assert conf["database"]["connection"] == (
        f"mysql+pymysql://keystone:{_fake_secret('keystone_database_password')}"
        f"@192.0.2.21:3306/keystone")


def test_ceilometer_conf_has_transport_credentials_notification_and_polling() -> None:
    conf = _ini(_render("ceilometer.conf.j2", **ANSIBLE_PEERS))
    transport = conf["DEFAULT"]["transport_url"]
    assert transport.startswith("rabbit://openstack:") and "@192.0.2.32:5672" in transport
    assert conf["notification"]["messaging_urls"] == transport
    assert conf["polling"]["cfg_file"] == "polling.yaml"
    assert conf["DEFAULT"]["pipeline_cfg_file"] == "pipeline.yaml"
    credentials = conf["service_credentials"]
    assert credentials["username"] == "ceilometer"
    assert credentials["password"] == _fake_secret("ceilometer_keystone_password")
    assert credentials["region_name"] == "RegionOne"
    assert conf["publisher"]["telemetry_secret"] == _fake_secret("ceilometer_telemetry_secret")


def test_ceilometer_pipeline_publishes_to_gnocchi_with_horizon_mimic() -> None:
    pipeline = yaml.safe_load(_render("pipeline.yaml.j2"))
    sinks = {sink["name"]: sink for sink in pipeline["sinks"]}
    for source in pipeline["sources"]:
        assert set(source["sinks"]) <= set(sinks)
    # Waiting out the load balancer's retries (ceilometer drops a batch it gave up on).
    for sink in sinks.values():
        assert sink["publishers"] == [
            "gnocchi://?filter_project=service&archive_policy=horizon-mimic&timeout=60"]
    overridden = yaml.safe_load(_render("pipeline.yaml.j2",
                                        ceilometer_gnocchi_publisher_timeout=90))
    assert overridden["sinks"][0]["publishers"][0].endswith("&timeout=90")


def test_ceilometer_polling_interval_and_snmp_targets_are_variables() -> None:
    polling = yaml.safe_load(_render("polling.yaml.j2", ceilometer_polling_interval=300,
                                     snmp_target_addresses=["198.51.100.1", "198.51.100.2"]))
    assert {source["interval"] for source in polling["sources"]} == {300}
    community = _fake_secret("snmp_community")
    snmp_sources = [source for source in polling["sources"] if "resources" in source]
    assert snmp_sources
    for source in snmp_sources:
        assert source["resources"] == [f"snmp://{community}@198.51.100.1",
                                       f"snmp://{community}@198.51.100.2"]


def test_gnocchi_resources_default_to_horizon_mimic() -> None:
    resources = yaml.safe_load(_render("gnocchi_resources.yaml.j2"))
    assert resources["archive_policy_default"] == "horizon-mimic"
    policies = {policy["name"]: policy for policy in resources["archive_policies"]}
    assert "rate:mean" in policies["horizon-mimic"]["aggregation_methods"]
    assert len(policies["horizon-mimic"]["definition"]) == 5
    types = {resource["resource_type"] for resource in resources["resources"]}
    assert {"instance", "host", "host_disk", "host_network_interface"} <= types


def test_monitor_hardware_lists_come_from_variables() -> None:
    data = yaml.safe_load(_render("monitor_hardware.yaml.j2",
                                  monitor_hardware_host_disk_names=["/dev/sda"],
                                  monitor_hardware_host_interface_names=["ens192", "ens224"]))
    assert data == {
        "host": {"disk_name": ["/dev/sda"], "network_interface_name": ["ens192", "ens224"]},
        "instance": {"disk_name": [], "network_interface_name": []}}


def test_snmpd_has_no_public_community() -> None:
    text = _render("snmpd.conf.j2", **ANSIBLE_PEERS)
    assert not re.search(r"\bpublic\b", text, re.IGNORECASE)
    community = _fake_secret("snmp_community")
    assert re.search(rf"^rocommunity {community} 198\.51\.100\.0/24 -V systemview$", text,
                     re.MULTILINE)
    assert not re.search(r"^(rw|ro)community\s+\S+\s*$", text, re.MULTILINE), "unrestricted"
    for view in (".1", ".1.3.6.1.2.1.1", ".1.3.6.1.2.1.25.1.1"):
        assert re.search(rf"^view\s+systemview\s+included\s+{re.escape(view)}$", text,
                         re.MULTILINE)
    custom = _render("snmpd.conf.j2", snmpd_agent_address="udp:10.0.0.5:161,tcp:10.0.0.5:161")
    assert "agentAddress udp:10.0.0.5:161,tcp:10.0.0.5:161\n" in custom


def test_redis_requires_a_password_and_binds_one_address() -> None:
    text = _render("redis.conf.j2", **ANSIBLE_PEERS)
    lines = set(text.splitlines())
    assert f"requirepass {_fake_secret('redis_password')}" in lines
    assert "protected-mode no" not in text and "protected-mode yes" in lines
    assert {f"bind {HOST}", "port 6379", "appendonly yes", "dir /var/lib/redis",
            "daemonize no", 'logfile ""'} <= lines


SENTINEL_NODES = ["192.0.2.51", "192.0.2.52", "192.0.2.53"]
SENTINEL = {"enable_redis_sentinel": True, "redis_cluster_addresses": SENTINEL_NODES}


def test_gnocchi_asks_every_sentinel_where_the_master_is() -> None:
    conf = _ini(_render("gnocchi.conf.j2", **ANSIBLE_PEERS, **SENTINEL,
                        redis_password="p@ss/word&x"))
    for url in (conf["DEFAULT"]["coordination_url"], conf["incoming"]["redis_url"]):
        password, host, port, query = _redis_url_parts(url)
        assert (password, host, port) == ("p@ss/word&x", "192.0.2.51", 26379), url
        assert query == {"db": ["5"], "sentinel": ["telemetry"],
                         "sentinel_password": ["p@ss/word&x"], "socket_timeout": ["5"],
                         "sentinel_fallback": ["192.0.2.52:26379", "192.0.2.53:26379"]}, url
    # On a redis host, its own sentinel is asked first: it is gone only with this gnocchi.
    on_second = _ini(_render("gnocchi.conf.j2", **{**ANSIBLE_PEERS, **SENTINEL,
                                                   "api_interface_address": "192.0.2.52"}))
    _, host, _, query = _redis_url_parts(on_second["incoming"]["redis_url"])
    assert (host, query["sentinel_fallback"]) == (
        "192.0.2.52", ["192.0.2.51:26379", "192.0.2.53:26379"])
    # One redis host: the server itself, no sentinel.
    single = _ini(_render("gnocchi.conf.j2", **ANSIBLE_PEERS))
    _, host, port, query = _redis_url_parts(single["incoming"]["redis_url"])
    assert (host, port, query) == ("192.0.2.51", 6379, {"db": ["5"]})


def test_sentinels_watch_the_first_host_with_a_majority_quorum() -> None:
    lines = _render("sentinel.conf.j2", **ANSIBLE_PEERS, **SENTINEL).splitlines()
    secret = _fake_secret("redis_password")
    assert "sentinel monitor telemetry 192.0.2.51 6379 2" in lines
    assert {f"bind {HOST}", "port 26379", f"requirepass {secret}",
            f"sentinel sentinel-pass {secret}", f"sentinel auth-pass telemetry {secret}",
            "sentinel down-after-milliseconds telemetry 5000"} <= set(lines)
    redis = _render("redis.conf.j2", **ANSIBLE_PEERS, **SENTINEL).splitlines()
    assert f"masterauth {secret}" in redis
    assert not any(line.startswith(("replicaof", "slaveof")) for line in redis), (
        "the role is decided at start, never deployed")


def test_the_replication_file_tells_the_start_script_where_the_cluster_is() -> None:
    env = _render("redis-replication.env.j2", **ANSIBLE_PEERS, **SENTINEL)
    assert env.split() == [f"self={HOST}", "redis_port=6379", "master_name=telemetry",
                           "initial_master=192.0.2.51", "quorum=2",
                           'sentinels="192.0.2.51:26379', "192.0.2.52:26379",
                           '192.0.2.53:26379"']
    for engine in ENGINES:
        assert _render("redis-replication.env.j2", engine, **ANSIBLE_PEERS).split() == [
            'sentinels=""'], engine


def test_mariadb_my_cnf() -> None:
    conf = _ini(_render("my.cnf.j2", **ANSIBLE_PEERS, mariadb_max_connections=321),
                allow_no_value=True)
    assert conf["mysqld"]["bind-address"] == HOST
    assert conf["mysqld"]["datadir"] == "/var/lib/mysql"
    assert conf["mysqld"]["max_connections"] == "321"


def test_rabbitmq_definitions_give_openstack_its_vhost() -> None:
    definitions = json.loads(_render("rabbitmq-definitions.json.j2"))
    assert definitions["users"] == [{"name": "openstack", "tags": "",
                                     "password": _fake_secret("rabbitmq_password")}]
    assert definitions["vhosts"] == [{"name": "/"}]
    assert definitions["permissions"] == [{"user": "openstack", "vhost": "/", "configure": ".*",
                                           "write": ".*", "read": ".*"}]
    quoted = json.loads(_render("rabbitmq-definitions.json.j2", rabbitmq_password='a"b\\c'))
    assert quoted["users"][0]["password"] == 'a"b\\c'


def test_rabbitmq_conf_and_erlang_cookie() -> None:
    conf = _render("rabbitmq.conf.j2")
    assert "load_definitions = /etc/rabbitmq/definitions.json" in conf.splitlines()
    assert "loopback_users.guest = true" in conf.splitlines()
    assert "cluster_formation" not in conf, "one rabbitmq host: no cluster to form"
    assert _render("erlang.cookie.j2") == _fake_secret("rabbitmq_cluster_cookie")


def test_rabbitmq_hosts_form_one_cluster_of_nodes_named_by_address() -> None:
    members = ["192.0.2.31", "192.0.2.32", "192.0.2.33"]
    conf = _render("rabbitmq.conf.j2", rabbitmq_cluster_addresses=members).splitlines()
    assert "cluster_formation.peer_discovery_backend = classic_config" in conf
    assert [line.split(" = ")[1] for line in conf if ".classic_config.nodes." in line] == [
        f"rabbit@{address}" for address in members]
    assert "cluster_partition_handling = pause_minority" in conf
    # Each node names itself as its peers list it.
    assert _render("rabbitmq-env.conf.j2", api_interface_address=members[1]).splitlines()[:2] == [
        "NODENAME=rabbit@192.0.2.32", "USE_LONGNAME=true"]
    assert "NODENAME" not in _render("rabbitmq-env.conf.j2", "KUBERNETES")


@pytest.mark.parametrize("template", ["aodh.conf.j2", "ceilometer.conf.j2"])
def test_the_services_declare_quorum_queues(template: str) -> None:
    assert _ini(_render(template))["oslo_messaging_rabbit"]["rabbit_quorum_queue"] == "true"
    assert _ini(_render(template, rabbitmq_quorum_queues=False))["oslo_messaging_rabbit"][
        "rabbit_quorum_queue"] == "false"


# --- load balancer (seed 003's upstream) ------------------------------------------------------


def _upstreams(text: str, backup: bool = False) -> dict[str, list[str]]:
    """Each upstream's servers: the primaries, or with backup=True the never-marked copies."""
    blocks = re.findall(r"upstream (\S+) \{(.*?)\}", text, re.DOTALL)
    kind = r" backup max_fails=0;" if backup else r"(?! backup)[ ;]"
    return {name: re.findall(r"^\s*server (\S+?)" + kind, body, re.MULTILINE)
            for name, body in blocks}


def test_nginx_upstreams_list_every_backend_and_retry_the_next() -> None:
    text = _render("nginx.conf.j2", **ANSIBLE_PEERS)
    assert _upstreams(text) == {
        "keystone": ["192.0.2.71:5000", "192.0.2.72:5000"],
        "gnocchi_api": ["192.0.2.81:8041", "192.0.2.82:8041"],
        "aodh_api": ["192.0.2.91:8042", "192.0.2.92:8042"],
    }
    assert _upstreams(text, backup=True) == _upstreams(text), \
        "every server again as a never-marked backup: no 502 while the others are marked"
    locations = re.findall(r"location / \{(.*?)\}", text, re.DOTALL)
    assert len(locations) == 3
    for location in locations:
        assert "proxy_next_upstream error timeout http_502 http_503;" in location
        assert "proxy_next_upstream_tries 0;" in location, \
            "a failed request goes on to every server of the upstream, backups included"
    # Only gnocchi's measure writes are resent after reaching a backend (non_idempotent).
    resent = re.findall(r'location ~ "(\S+)" \{(.*?)\}', text, re.DOTALL)
    assert [pattern for pattern, _ in resent] == [
        "^/v1/(metric/[^/]+|resource/[^/]+/[^/]+/metric/[^/]+|batch/metrics|"
        "batch/resources/metrics)/measures$"]
    assert "http_503 non_idempotent;" in resent[0][1]
    # A resendable write held by a backend still starting goes to another within a client's
    # patience; anything else may take its time (a long aggregation query).
    assert "proxy_read_timeout 5s;" in resent[0][1]
    assert all("proxy_read_timeout 120s;" in location for location in locations)
    # When that fast pass failed on every server, the write is passed once more, patiently:
    # the only live backend may be stalled while the other restarts.
    assert "error_page 502 504 = @gnocchi_api_patient;" in resent[0][1]
    patient = re.findall(r"location @gnocchi_api_patient \{(.*?)\}", text, re.DOTALL)
    assert len(patient) == 1
    assert "proxy_pass http://gnocchi_api;" in patient[0]
    assert "http_503 non_idempotent;" in patient[0]
    assert "proxy_read_timeout 120s;" in patient[0]
    assert text.count("non_idempotent") == 2, "no other location resends a POST"
    # A read of those paths is no write: the ordinary way, never cut after 5 s and resent.
    assert re.search(r"error_page 418 = @gnocchi_api_read;\s+"
                     r"if \(\$request_method != POST\) \{\s+return 418;\s+\}\s+\}", text)
    read = re.findall(r"location @gnocchi_api_read \{(.*?)\}", text, re.DOTALL)
    assert len(read) == 1 and read[0] == locations[1], "the same as gnocchi-api's location /"
    assert text.count("error_page") == 2
    listens = re.findall(r"^\s*listen \S+:(\d+);$", text, re.MULTILINE)
    assert listens == ["15000", "18041", "18042"]
    assert text.count("{") == text.count("}")


def test_nginx_upstreams_follow_a_port_override() -> None:
    text = _render("nginx.conf.j2", **{**ANSIBLE_PEERS, "gnocchi_api_port": 9041,
                                       "gnocchi_lb_port": 19041})
    assert _upstreams(text)["gnocchi_api"] == ["192.0.2.81:9041", "192.0.2.82:9041"]
    assert "19041" in re.findall(r"^\s*listen \S+:(\d+);$", text, re.MULTILINE)


# --- mariadb: Galera and its proxy ------------------------------------------------------------

GALERA_NODES = ["192.0.2.21", "192.0.2.22", "192.0.2.23"]


def test_one_mariadb_host_runs_without_galera() -> None:
    assert "wsrep" not in _render("my.cnf.j2", **ANSIBLE_PEERS)


def test_several_mariadb_hosts_form_one_galera_cluster() -> None:
    peers = {**ANSIBLE_PEERS, "mariadb_cluster_addresses": GALERA_NODES}
    mysqld = _ini(_render("my.cnf.j2", **peers), allow_no_value=True)["mysqld"]
    assert mysqld["wsrep_on"] == "ON"
    assert mysqld["wsrep_provider"] == "/usr/lib/galera/libgalera_smm.so"
    assert mysqld["wsrep_cluster_address"] == (
        "gcomm://192.0.2.21:4567,192.0.2.22:4567,192.0.2.23:4567")
    assert mysqld["wsrep_node_address"] == f"{HOST}:4567"
    options = mysqld["wsrep_provider_options"].strip('"').split(";")
    assert f"gmcast.listen_addr=tcp://{HOST}:4567" in options
    assert f"ist.recv_addr={HOST}:4568" in options
    assert mysqld["wsrep_sst_method"] == "mariabackup"
    assert mysqld["wsrep_sst_receive_address"] == f"{HOST}:4444"
    # Galera replicates row events of InnoDB tables, with interleaved auto-increment locks.
    assert (mysqld["binlog_format"], mysqld["innodb_autoinc_lock_mode"]) == ("ROW", "2")
    # The donor's mariabackup logs in through the socket: no SST password anywhere.
    assert "wsrep_sst_auth" not in mysqld
    # Kubernetes runs one pod: no cluster whatever the addresses say.
    assert "wsrep" not in _render("my.cnf.j2", "KUBERNETES", **peers)


def test_the_mariadb_proxy_sends_every_connection_to_one_writer() -> None:
    text = _render("nginx-mariadb.conf.j2",
                   **{**ANSIBLE_PEERS, "mariadb_backend_addresses": GALERA_NODES})
    servers = re.findall(r"^\s*server (\S+) ([^;]*);$", text, re.MULTILINE)
    assert [address for address, _ in servers] == [
        "192.0.2.21:3306", "192.0.2.22:3306", "192.0.2.23:3306"]
    # A constant key: every connection to the same node (nginx's `backup` servers would take
    # turns, two writers at once).
    assert re.findall(r"^\s*hash (\S+);$", text, re.MULTILINE) == ["mariadb-writer"]
    assert "backup" not in text
    assert re.findall(r"^\s*listen (\S+);$", text, re.MULTILINE) == [f"{HOST}:13306"]
    assert "stream {" in text and "http {" not in text
    assert "load_module /usr/lib/nginx/modules/ngx_stream_module.so;" in text
    # An idle pooled connection outlives oslo.db's hour before it recycles it.
    assert "proxy_timeout 3660s;" in text
    assert text.count("{") == text.count("}")


def test_the_api_nginx_does_not_serve_the_database() -> None:
    assert "13306" not in _render("nginx.conf.j2", **ANSIBLE_PEERS)


def _kubernetes_backends() -> dict[str, Any]:
    """The load balancer's backends as kubernetes/globals.yml sets them: the Services."""
    kubernetes_globals = _load_yaml(ROOT / "kubernetes" / "globals.yml")
    return {key: kubernetes_globals[key] for key in kubernetes_globals
            if key.endswith("_backend_addresses")}


def test_nginx_under_kubernetes_balances_the_services() -> None:
    text = _render("nginx.conf.j2", "KUBERNETES", **{**ANSIBLE_PEERS, **_kubernetes_backends()})
    assert _upstreams(text) == {"keystone": ["keystone:5000"],
                                "gnocchi_api": ["gnocchi-api:8041"],
                                "aodh_api": ["aodh-api:8042"]}


def test_logrotate_follows_seed_003() -> None:
    text = _render("logrotate.conf.j2", logrotate_log_paths=["/var/log/a/*.log",
                                                             "/var/log/b/*.log"])
    blocks = re.findall(r"^(\S+) \{\n(.*?)^\}", text, re.DOTALL | re.MULTILINE)
    assert [path for path, _ in blocks] == ["/var/log/a/*.log", "/var/log/b/*.log"]
    for _, body in blocks:
        assert {"rotate 4", "size 10M", "compress", "copytruncate"} <= {
            line.strip() for line in body.splitlines()}


# --- the catalog ----------------------------------------------------------------------------


def test_every_catalog_config_file_has_a_template_in_its_role() -> None:
    missing = []
    for service in load_catalog().services.values():
        for container in service.containers.values():
            for config_file in container.config_files:
                template = ROLES / service.name / "templates" / f"{config_file.src}.j2"
                if not template.is_file():
                    missing.append(f"{service.name}/{container.name}: {template}")
    assert not missing, missing


def test_ports_are_written_once_in_the_catalog() -> None:
    """group_vars copies no port: every NAME_port is the catalog's, through the vars plugin."""
    catalog = load_catalog()
    port_variables = {f"{name}_port" for c in catalog.containers() for name in c.ports}
    for path in sorted(GROUP_VARS_DIR.glob("*.y*ml")):
        copies = port_variables & set(_load_yaml(path) or {})
        assert not copies, f"{path} copies catalog ports {sorted(copies)}"
    assert {"gnocchi_api_port", "keystone_public_port", "mariadb_port",
            "gnocchi_lb_port"} <= set(_template_defaults())


def test_group_vars_defaults() -> None:
    group_vars = copy.deepcopy(_load_yaml(GROUP_VARS))
    assert group_vars["orchestration_engine"] == "ANSIBLE"
    assert group_vars["gnocchi_archive_policy_name"] == "horizon-mimic"
    assert group_vars["gnocchi_storage_driver"] == "file"
    assert group_vars["openstack_region_name"] == "RegionOne"
    assert isinstance(group_vars["ceilometer_polling_interval"], int)
    for key, value in group_vars.items():
        assert "{{" not in str(value), f"{key}: group_vars hold plain values only"
