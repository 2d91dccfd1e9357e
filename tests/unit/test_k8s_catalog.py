"""The catalog is the one source of telemetry-k8s: a port override reaches every place that
port appears, two services on one port are refused, and a service added to (a copy of) the
catalog gets its resources with no other file changed."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry.catalog import default_catalog_path
from telemetry.cli import k8s as cli
from telemetry.k8s import operations
from telemetry.k8s.validate import validate_all
from tests.conftest import IMAGE_TAG
from tests.unit.k8s_fixtures import ROOT, fake_passwords, write_passwords


def template_all(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["resource", "template", "all", "all", "--passwords",
                     str(write_passwords(tmp_path)), "-e", "enable_ceilometer_compute=true",
                     *args], out=out, err=err)
    assert code == 0, err.getvalue()
    return [d for d in yaml.safe_load_all(out.getvalue()) if d]


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name)


def main_container(document: dict[str, Any]) -> dict[str, Any]:
    return document["spec"]["template"]["spec"]["containers"][0]


def waits(document: dict[str, Any]) -> dict[str, list[str]]:
    return {c["name"]: c["command"] for c in document["spec"]["template"]["spec"].get(
        "initContainers", [])}


def secret_text(documents: list[dict[str, Any]], name: str, key: str) -> str:
    return base64.b64decode(find(documents, "Secret", name)["data"][key]).decode()


# --- one port override, everywhere ------------------------------------------------------------


@pytest.fixture(scope="module", params=["-e", "--globals"])
def moved(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every resource rendered with gnocchi-api on 9041, given on the command line or in a
    globals file (rendered once per way, for every test below)."""
    tmp_path = tmp_path_factory.mktemp("moved")
    if request.param == "-e":
        return template_all(tmp_path, "-e", "gnocchi_api_port=9041")
    site = tmp_path / "site.yml"
    site.write_text("gnocchi_api_port: 9041\n")
    return template_all(tmp_path, "--globals", str(site))


def test_a_port_override_reaches_the_pod_probes_and_service(moved: list[dict[str, Any]]) -> None:
    api = main_container(find(moved, "Deployment", "gnocchi-api"))
    assert [p["containerPort"] for p in api["ports"]] == [9041]
    for probe in ("readinessProbe", "livenessProbe"):
        assert api[probe]["exec"]["command"] == [
            "telemetry_healthcheck", "http", "http://127.0.0.1:9041/healthcheck"], probe
    service = find(moved, "Service", "gnocchi-api")["spec"]["ports"]
    assert [p["port"] for p in service] == [9041]
    # targetPort names the container port, which is 9041.
    assert {p["name"] for p in api["ports"]} == {p["targetPort"] for p in service}


def test_a_port_override_reaches_the_configs(moved: list[dict[str, Any]]) -> None:
    uwsgi = find(moved, "ConfigMap", "gnocchi-api")["data"]["gnocchi-uwsgi.ini"]
    assert "http-socket = 0.0.0.0:9041" in uwsgi
    nginx = find(moved, "ConfigMap", "loadbalancer")["data"]["nginx.conf"]
    assert "server gnocchi-api:9041 " in nginx


def test_a_port_override_reaches_the_keystone_endpoints(moved: list[dict[str, Any]]) -> None:
    spec = yaml.safe_load(secret_text(moved, "gnocchi-register", "spec.yml"))
    endpoints = spec["keystone"]["services"][0]["endpoints"]
    assert endpoints["internal"] == endpoints["admin"] == "http://gnocchi-api:9041"
    policies = yaml.safe_load(secret_text(moved, "gnocchi-archive-policies", "spec.yml"))
    assert policies["gnocchi"]["url"] == "http://gnocchi-api:9041"


def test_a_port_override_reaches_the_waits_of_dependents(moved: list[dict[str, Any]]) -> None:
    url = "http://gnocchi-api:9041/healthcheck"
    for kind, name in (("Deployment", "aodh-api"), ("Deployment", "ceilometer-central"),
                       ("Job", "gnocchi-archive-policies")):
        assert url in waits(find(moved, kind, name))["wait-gnocchi-api"], name


def test_after_a_port_override_nothing_holds_the_old_port(moved: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump_all(moved) + "".join(
        base64.b64decode(v).decode() for d in moved if d["kind"] == "Secret"
        for v in d["data"].values())
    # 18041 is the load balancer's own port for gnocchi, which did not move.
    assert not re.search(r"(?<!1)8041", text)
    assert not validate_all(moved, ["1.31"])


def test_two_services_on_one_port_is_bad_input(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["resource", "template", "all", "--passwords", str(write_passwords(tmp_path)),
                     "-e", "aodh_api_port=8041"], out=out, err=err)
    assert code == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("telemetry-k8s: error: ")
    assert "aodh_api_port" in lines[0] and "gnocchi_api_port" in lines[0]
    assert not out.getvalue()


# --- a new service in a copy of the catalog ---------------------------------------------------


ECHO = {
    "group": "control",
    "depends_on": ["memcached"],
    "containers": {"echo": {
        "image": "echo", "user": "telemetry",
        "command": "/usr/bin/echo-server --listen {{ listen_address }}:{{ echo_port }}",
        "ports": {"echo": 7007},
        "config_files": [{"src": "echo.conf", "dest": "/etc/echo/echo.conf",
                          "owner": "telemetry", "perm": "0640"}],
        "healthcheck": {"type": "http", "port": "echo", "path": "/health"}}},
}


def echo_project(tmp_path: Path, **extra: Any) -> operations.Project:
    raw = yaml.safe_load(default_catalog_path().read_text())
    raw["images"]["echo"] = {"parent": "base"}
    raw["services"]["echo"] = ECHO
    catalog = tmp_path / "services.yml"
    catalog.write_text(yaml.safe_dump(raw, sort_keys=False))
    templates = tmp_path / "roles" / "echo" / "templates"
    templates.mkdir(parents=True)
    (templates / "echo.conf.j2").write_text(
        "[echo]\nport = {{ echo_port }}\nmemcached = {{ memcached_service_name }}\n")
    return operations.load_project(ROOT, fake_passwords(), extra=extra, catalog_path=catalog,
                                   roles_dirs=(tmp_path / "roles", ROOT / "ansible" / "roles"))


def test_a_new_catalog_service_gets_its_resources(tmp_path: Path) -> None:
    project = echo_project(tmp_path)
    assert [r.label for r in project.registry.select("all", ["echo"])] == [
        "configmap/echo", "secret/echo", "svc/echo", "pod/echo"]
    rendered = operations.render_selection(project, "all", ["echo"])
    documents = operations.documents(rendered)
    # No file of the echo service uses a password: no Secret.
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("ConfigMap", "echo"), ("Service", "echo"), ("Deployment", "echo")]
    data = find(documents, "ConfigMap", "echo")["data"]
    assert data["echo.conf"] == "[echo]\nport = 7007\nmemcached = memcached\n"
    assert '"command": "/usr/bin/echo-server --listen 0.0.0.0:7007"' in data["config.json"]
    assert find(documents, "Service", "echo")["spec"]["ports"][0]["port"] == 7007
    pod = main_container(find(documents, "Deployment", "echo"))
    assert pod["image"] == f"telemetry/echo:{IMAGE_TAG}"
    assert pod["ports"] == [{"name": "echo", "containerPort": 7007}]
    assert pod["readinessProbe"]["exec"]["command"][-1] == "http://127.0.0.1:7007/health"
    assert list(waits(find(documents, "Deployment", "echo"))) == ["wait-memcached"]
    assert not validate_all(documents, ["1.29", "1.31"])


def test_a_new_catalog_service_follows_its_port_variable(tmp_path: Path) -> None:
    documents = operations.documents(operations.render_selection(
        echo_project(tmp_path, echo_port=7100), "all", ["echo"]))
    assert "port = 7100" in find(documents, "ConfigMap", "echo")["data"]["echo.conf"]
    assert find(documents, "Service", "echo")["spec"]["ports"][0]["port"] == 7100
