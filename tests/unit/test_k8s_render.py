"""telemetry-k8s rendering: every resource of every service, validated offline against the
official schemas of several Kubernetes versions (kubernetes-validate, strict), linted the way
kolla-kubernetes named things, and checked against the catalog it comes from."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry.bootstrap import database, gnocchi, keystone
from telemetry.bootstrap.spec import parse as parse_spec
from telemetry.catalog import container_enabled, load_catalog
from telemetry.common.contract import healthcheck_command
from telemetry.k8s import operations
from telemetry.k8s.configs import SECRETS_MOUNT
from telemetry.k8s.pods import CONFIG_HASH_ANNOTATION
from telemetry.k8s.registry import TYPES
from telemetry.k8s.validate import supported_versions, validate_all
from tests.conftest import IMAGE_TAG
from tests.unit.k8s_fixtures import fake_passwords, project, rendered_all

VERSIONS = ("1.29", "1.30", "1.31")
CATALOG = load_catalog()
POD_KINDS = ("Deployment", "DaemonSet", "Job")
# What `podman kube play` can mount (so each pod template can run there too).
PODMAN_VOLUME_TYPES = {"configMap", "secret", "emptyDir", "persistentVolumeClaim", "hostPath"}


def documents(kind: str | None = None) -> list[dict[str, Any]]:
    return [d for item in rendered_all() for d in item.documents
            if kind is None or d["kind"] == kind]


def pod_templates() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(d, d["spec"]["template"]) for d in documents() if d["kind"] in POD_KINDS]


def main_container(document: dict[str, Any]) -> dict[str, Any]:
    return document["spec"]["template"]["spec"]["containers"][0]


# --- schemas -----------------------------------------------------------------------------------


def test_the_validator_ships_the_versions_we_check() -> None:
    assert set(VERSIONS) <= set(supported_versions())


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_is_valid_for_kubernetes(version: str) -> None:
    problems = validate_all(documents(), [version])
    assert not problems, "\n".join(p.line() for p in problems)


def test_the_validation_is_strict() -> None:
    deployment = json.loads(json.dumps(documents("Deployment")[0]))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy_typo"] = "x"
    assert [p.path for p in validate_all([deployment], ["1.31"])] == [
        "spec.template.spec.containers.0"]


def test_every_service_of_the_catalog_has_resources() -> None:
    services = {item.resource.service for item in rendered_all() if item.documents}
    # cron is the Ansible engine's logrotate container; pods rotate with their logging ConfigMap.
    assert services == set(CATALOG.services) - {"toolbox", "cron"}


def test_kinds_per_service() -> None:
    kinds: dict[str, set[str]] = {}
    for item in rendered_all():
        for document in item.documents:
            kinds.setdefault(item.resource.service, set()).add(document["kind"])
    assert kinds["aodh"] >= {"ConfigMap", "Secret", "Service", "Job", "Deployment"}
    assert kinds["gnocchi"] >= {"ConfigMap", "Secret", "Service", "Job", "Deployment"}
    assert "DaemonSet" in kinds["snmpd"] and "DaemonSet" in kinds["ceilometer"]
    assert "PersistentVolumeClaim" in kinds["mariadb"] and "PersistentVolumeClaim" in kinds["redis"]
    names = {d["metadata"]["name"] for d in documents("Deployment")}
    assert {"aodh-api", "aodh-evaluator", "aodh-listener", "aodh-notifier", "gnocchi-api",
            "gnocchi-metricd", "ceilometer-central", "ceilometer-notification", "keystone",
            "mariadb", "rabbitmq", "memcached", "redis", "loadbalancer"} <= names
    jobs = {d["metadata"]["name"] for d in documents("Job")}
    assert {"aodh-create-db", "aodh-manage-db", "aodh-register", "gnocchi-archive-policies",
            "keystone-create-db", "keystone-manage-db", "ceilometer-upgrade"} <= jobs


# --- names (kolla-kubernetes style) ------------------------------------------------------------


def test_names_are_prefixed_by_their_service_without_the_kind() -> None:
    kind_words = re.compile(r"(^|-)(deployment|daemonset|job|configmap|secret|svc|service|pvc|"
                            r"pod)(-|$)")
    for item in rendered_all():
        for document in item.documents:
            name = document["metadata"]["name"]
            assert name == item.resource.service or name.startswith(
                f"{item.resource.service}-"), (item.resource.label, name)
            assert not kind_words.search(name), (item.resource.label, name)
            assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)


def test_no_two_resources_of_a_kind_share_a_name() -> None:
    seen: dict[tuple[str, str], str] = {}
    for item in rendered_all():
        for document in item.documents:
            key = (document["kind"], document["metadata"]["name"])
            assert key not in seen, f"{key} from {seen.get(key)} and {item.resource.label}"
            seen[key] = item.resource.label


def test_registry_names_are_the_manifest_names() -> None:
    for item in rendered_all():
        for document in item.documents:
            assert document["metadata"]["name"] == item.resource.name
            assert document["metadata"]["namespace"] == "telemetry"


def test_registry_types_hold_their_kinds() -> None:
    kinds = {"pvc": {"PersistentVolumeClaim"}, "configmap": {"ConfigMap"}, "secret": {"Secret"},
             "svc": {"Service"}, "bootstrap": {"Job"}, "pod": {"Deployment", "DaemonSet"}}
    assert set(kinds) == set(TYPES)
    for item in rendered_all():
        for document in item.documents:
            assert document["kind"] in kinds[item.resource.type], item.resource.label


# --- secrets ----------------------------------------------------------------------------------


def test_no_configmap_holds_a_password() -> None:
    secrets = set(fake_passwords().values())
    configmaps = documents("ConfigMap")
    assert configmaps
    for configmap in configmaps:
        text = json.dumps(configmap)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"ConfigMap {configmap['metadata']['name']} holds a password"


def test_every_password_reaches_a_secret() -> None:
    decoded = "".join(base64.b64decode(v).decode() for s in documents("Secret")
                      for v in s["data"].values())
    for key, value in fake_passwords().items():
        assert value in decoded, f"{key} is in no Secret"


def test_config_json_sources_are_mounted() -> None:
    """telemetry_set_configs finds every source: from the ConfigMap, or the Secret beside it."""
    configmaps = {d["metadata"]["name"]: d for d in documents("ConfigMap")}
    secrets = {d["metadata"]["name"]: d for d in documents("Secret")}
    for _, template in pod_templates():
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        if "config" not in volumes:
            continue  # toolbox Jobs read their spec Secret directly
        name = volumes["config"]["configMap"]["name"]
        config = json.loads(configmaps[name]["data"]["config.json"])
        for entry in config["config_files"]:
            source_dir, file_name = entry["source"].rsplit("/", 1)
            if source_dir == SECRETS_MOUNT:
                assert file_name in secrets[name]["data"], (name, file_name)
            else:
                assert file_name in configmaps[name]["data"], (name, file_name)


# --- pods -------------------------------------------------------------------------------------


def test_every_pod_template_carries_the_config_hash() -> None:
    for document, template in pod_templates():
        value = template["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]
        assert re.fullmatch(r"[0-9a-f]{64}", value), document["metadata"]["name"]


def _hashes(**extra: Any) -> dict[str, str]:
    rendered = operations.render_selection(project(**extra), "all", ["all"])
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"][
        CONFIG_HASH_ANNOTATION] for item in rendered for d in item.documents
        if d["kind"] in POD_KINDS}


def test_a_config_change_rolls_exactly_the_pods_that_mount_it() -> None:
    before = _hashes()
    after = _hashes(aodh_evaluation_interval=30)  # a value of aodh.conf only
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"aodh-api", "aodh-evaluator", "aodh-listener", "aodh-notifier",
                       "aodh-manage-db"}


def test_a_password_change_rolls_the_pods_through_their_secret() -> None:
    before = _hashes()
    after = operations.render_selection(
        operations.load_project(project().root, {**fake_passwords(), "redis_password": "Other1"},
                                extra={"enable_ceilometer_compute": True}), "pod", ["redis"])
    redis = after[0].documents[0]["spec"]["template"]["metadata"]["annotations"]
    assert redis[CONFIG_HASH_ANNOTATION] != before["redis"]


def test_probes_come_from_the_catalog_healthchecks() -> None:
    containers = {c.name: c for c in CATALOG.containers()}
    for document in documents("Deployment") + documents("DaemonSet"):
        container = main_container(document)
        healthcheck = containers[container["name"]].healthcheck
        assert healthcheck is not None
        expected = healthcheck_command({"type": healthcheck.type, "port": healthcheck.port,
                                        "path": healthcheck.path,
                                        "protocol": healthcheck.protocol}, "127.0.0.1")
        assert container["readinessProbe"]["exec"]["command"] == expected
        assert container["livenessProbe"]["exec"]["command"] == expected


def test_containers_match_the_catalog() -> None:
    containers = {c.name: c for c in CATALOG.containers()}
    for document in documents("Deployment") + documents("DaemonSet"):
        container = main_container(document)
        spec = containers[container["name"]]
        assert container["image"] == f"telemetry/{spec.image}:{IMAGE_TAG}"
        assert {p["containerPort"] for p in container.get("ports", [])} == set(
            spec.ports.values())
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env.items() >= spec.environment.items()
        assert "command" not in container  # telemetry_start runs config.json's command
        host_network = document["spec"]["template"]["spec"].get("hostNetwork", False)
        assert host_network == (spec.network == "host")


def test_replicas_come_from_the_globals() -> None:
    deployments = {d["metadata"]["name"]: d for d in documents("Deployment")}
    assert deployments["gnocchi-api"]["spec"]["replicas"] == 2
    assert deployments["aodh-api"]["spec"]["replicas"] == 1
    rendered = operations.render_selection(project(k8s_replicas={"aodh-api": 3}), "pod",
                                           ["aodh-api"])
    assert rendered[0].documents[0]["spec"]["replicas"] == 3


def test_pods_wait_for_the_services_they_depend_on() -> None:
    deployments = {d["metadata"]["name"]: d for d in documents("Deployment")}
    waits = {c["name"] for c in deployments["aodh-api"]["spec"]["template"]["spec"][
        "initContainers"]}
    assert waits == {"wait-mariadb", "wait-rabbitmq", "wait-keystone", "wait-gnocchi-api"}
    assert "initContainers" not in deployments["mariadb"]["spec"]["template"]["spec"]
    keystone_wait = next(c for c in deployments["aodh-api"]["spec"]["template"]["spec"][
        "initContainers"] if c["name"] == "wait-keystone")
    assert keystone_wait["command"][:4] == ["python3", "-m", "telemetry.bootstrap", "wait-http"]
    assert "http://keystone:5000/v3" in keystone_wait["command"]


def test_pod_templates_run_under_podman_kube_play() -> None:
    """Plain images, volumes podman can provide, no Kubernetes-only machinery (service
    accounts, projected volumes), so the harness can run each pod template as it is."""
    images = {f"telemetry/{name}:{IMAGE_TAG}" for name in CATALOG.images}
    for _, template in pod_templates():
        spec = template["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["image"] in images, container["image"]
        for volume in spec["volumes"]:
            assert set(volume) - {"name"} <= PODMAN_VOLUME_TYPES, volume
        assert "serviceAccountName" not in spec


def test_compute_is_off_by_default() -> None:
    rendered = operations.render_selection(operations.load_project(
        project().root, fake_passwords()), "pod", ["ceilometer"])
    names = [d["metadata"]["name"] for item in rendered for d in item.documents]
    assert names == ["ceilometer-central", "ceilometer-notification"]
    assert not container_enabled({}, next(c for c in CATALOG.containers()
                                          if c.name == "ceilometer-compute"))


def test_services_are_named_as_the_config_templates_reach_them() -> None:
    variables = project().variables.values
    names = {d["metadata"]["name"] for d in documents("Service")}
    for key in ("mariadb_service_name", "rabbitmq_service_name", "memcached_service_name",
                "redis_service_name", "keystone_service_name", "gnocchi_api_service_name",
                "aodh_api_service_name", "loadbalancer_service_name"):
        assert variables[key] in names, key


def test_apis_listen_on_all_addresses_not_on_a_service_name() -> None:
    """Seed 002 FAQ 4: binding a Service name fails (its cluster IP is on no interface)."""
    configmaps = {d["metadata"]["name"]: d["data"] for d in documents("ConfigMap")}
    assert "http-socket = 0.0.0.0:8042" in configmaps["aodh-api"]["aodh-uwsgi.ini"]
    assert "http-socket = 0.0.0.0:8041" in configmaps["gnocchi-api"]["gnocchi-uwsgi.ini"]
    assert "http-socket = 0.0.0.0:5000" in configmaps["keystone"]["keystone-uwsgi.ini"]


# --- bootstrap Jobs ---------------------------------------------------------------------------


def _spec(name: str) -> str:
    secret = next(d for d in documents("Secret") if d["metadata"]["name"] == name)
    return base64.b64decode(secret["data"]["spec.yml"]).decode()


def test_job_specs_are_what_telemetry_bootstrap_accepts() -> None:
    for service in ("keystone", "gnocchi", "aodh"):
        spec = database.parse_spec(parse_spec(_spec(f"{service}-create-db")))
        assert [d.name for d in spec.databases] == [service]
        assert spec.host == "mariadb" and spec.port == 3306
    for service in ("gnocchi", "aodh", "ceilometer"):
        spec = keystone.parse_spec(parse_spec(_spec(f"{service}-register")))
        assert [u.name for u in spec.users] == [service]
        assert spec.auth.auth_url == "http://keystone:5000/v3"
    aodh = keystone.parse_spec(parse_spec(_spec("aodh-register")))
    assert [(s.name, s.type) for s in aodh.services] == [("aodh", "alarming")]
    assert aodh.services[0].endpoints["internal"] == "http://aodh-api:8042"
    policies = gnocchi.parse_spec(parse_spec(_spec("gnocchi-archive-policies")))
    assert [p.name for p in policies.policies] == ["horizon-mimic"]


def test_jobs_are_keyed_by_their_inputs() -> None:
    """The Job and its pod template carry the hash of the spec or configs it runs with, which
    is how telemetry-k8s decides to leave a Job alone or run it again."""
    for job in documents("Job"):
        value = job["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]
        assert job["spec"]["template"]["metadata"]["annotations"][
            CONFIG_HASH_ANNOTATION] == value
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"


def test_manage_db_jobs_run_the_catalog_bootstrap() -> None:
    jobs = {d["metadata"]["name"]: d for d in documents("Job")}
    configmaps = {d["metadata"]["name"]: d["data"] for d in documents("ConfigMap")}
    for job, container in (("aodh-manage-db", "aodh-api"), ("gnocchi-manage-db", "gnocchi-api"),
                           ("keystone-manage-db", "keystone"),
                           ("ceilometer-upgrade", "ceilometer-notification")):
        main = main_container(jobs[job])
        assert {"name": "TELEMETRY_BOOTSTRAP", "value": "1"} in main["env"]
        config = json.loads(configmaps[container]["config.json"])
        catalog = next(c for c in CATALOG.containers() if c.name == container)
        assert config["bootstrap_command"] == catalog.bootstrap


def test_archive_policies_come_after_the_gnocchi_pods() -> None:
    order = [item.resource.label for item in rendered_all()]
    assert order.index("bootstrap/gnocchi-archive-policies") > order.index("pod/gnocchi-api")
    assert order.index("bootstrap/gnocchi-manage-db") < order.index("pod/gnocchi-api")
    assert order.index("pod/mariadb") < order.index("bootstrap/keystone-create-db")


def test_yaml_output_round_trips() -> None:
    text = yaml.safe_dump_all(documents())
    assert list(yaml.safe_load_all(text)) == documents()


def test_logs_in_files_get_a_volume_and_the_logging_configmap() -> None:
    rendered = operations.render_selection(project(log_to_file=True), "all", ["aodh"])
    docs = [d for item in rendered for d in item.documents]
    api = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "aodh-api")
    mounts = {m["mountPath"]: m["name"] for m in main_container(api)["volumeMounts"]}
    assert mounts["/var/log/aodh"] == "logs"
    volumes = {v["name"]: v for v in api["spec"]["template"]["spec"]["volumes"]}
    assert volumes["logging"] == {"name": "logging", "configMap": {"name": "aodh-logging"}}
    logging = next(d for d in docs if d["metadata"]["name"] == "aodh-logging")
    assert "/var/log/aodh/*.log {" in logging["data"]["logrotate.conf"]
    assert not validate_all(docs, ["1.31"])


def test_kolla_style_overrides_merge_and_move_the_file_into_the_secret(tmp_path: Path) -> None:
    (tmp_path / "aodh" / "aodh-api").mkdir(parents=True)
    (tmp_path / "global.conf").write_text("[DEFAULT]\ndebug = true\n")
    (tmp_path / "aodh" / "aodh-api" / "aodh-uwsgi.ini").write_text("[uwsgi]\nprocesses = 7\n")
    custom = operations.load_project(project().root, fake_passwords(), overrides_dir=tmp_path)
    rendered = operations.render_selection(custom, "all", ["aodh"])
    docs = {(d["kind"], d["metadata"]["name"]): d for item in rendered for d in item.documents}
    secret = docs[("Secret", "aodh-api")]["data"]
    uwsgi = base64.b64decode(secret["aodh-uwsgi.ini"]).decode()
    assert "processes = 7" in uwsgi and "http-socket = 0.0.0.0:8042" in uwsgi
    assert "aodh-uwsgi.ini" not in docs[("ConfigMap", "aodh-api")]["data"]
    config = json.loads(docs[("ConfigMap", "aodh-api")]["data"]["config.json"])
    assert f"{SECRETS_MOUNT}/aodh-uwsgi.ini" in [e["source"] for e in config["config_files"]]
    assert "debug = true" in base64.b64decode(docs[("Secret", "aodh-evaluator")]["data"][
        "aodh.conf"]).decode()
    before = _hashes()
    after = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"][
        CONFIG_HASH_ANNOTATION] for (kind, _), d in docs.items() if kind == "Deployment"}
    assert all(after[name] != before[name] for name in after)
