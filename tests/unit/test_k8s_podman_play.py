"""The podman kube play harness's pure half: how Jobs, Deployments, DaemonSets, Services,
ConfigMaps, Secrets and claims become podman pods, aliases and volumes. No podman here: the
harness's run against real podman is the Molecule scenario `kubernetes`."""

from __future__ import annotations

import base64
import io
import tarfile
from typing import Any

import pytest
import yaml

from telemetry.cli import k8s as cli
from telemetry.k8s.podman_play.harness import last_messages, secret_tarball
from telemetry.k8s.podman_play.mapping import (
    CLAIM_PREFIX,
    CONFIGMAP_PREFIX,
    HASH_LABEL,
    KIND_LABEL,
    LABEL,
    PlanError,
    Published,
    check_service_ports,
    harness_variables,
    pod_spec,
    secret_volume,
    selects,
)
from telemetry.k8s.podman_play.plan import build_plan
from telemetry.k8s.registry import Resource
from telemetry.k8s.render import Rendered
from tests.unit.k8s_fixtures import rendered_all, write_passwords

NS = "telemetry"
SELECTOR = {"app.kubernetes.io/name": "web", "app.kubernetes.io/component": "web"}


def configmap(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def secret(name: str, files: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in files.items()}}


def service(name: str, port: int, target: int | str, selector: dict[str, str] = SELECTOR,
            ) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": selector,
                     "ports": [{"name": "p", "port": port, "targetPort": target}]}}


def template(restart: str = "Always", **spec: Any) -> dict[str, Any]:
    container = {"name": "web", "image": "telemetry/web:latest",
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "readinessProbe": {"exec": {"command": ["telemetry_healthcheck", "listen",
                                                         "8080"]}},
                 "volumeMounts": [{"name": "config", "mountPath": "/cfg", "readOnly": True},
                                  {"name": "secrets", "mountPath": "/sec", "readOnly": True},
                                  {"name": "data", "mountPath": "/data"},
                                  {"name": "scratch", "mountPath": "/tmp/x"}]}
    return {"metadata": {"labels": dict(SELECTOR),
                         "annotations": {"telemetry.openstack.org/config-hash": "a" * 64}},
            "spec": {"restartPolicy": restart,
                     "initContainers": [{"name": "wait-db", "image": "telemetry/toolbox:latest",
                                         "command": ["true"]}],
                     "containers": [container],
                     "volumes": [{"name": "config", "configMap": {"name": "web"}},
                                 {"name": "secrets",
                                  "secret": {"secretName": "web", "defaultMode": 0o400}},
                                 {"name": "data", "persistentVolumeClaim": {"claimName": "web"}},
                                 {"name": "scratch", "emptyDir": {}}],
                     **spec}}


def deployment(name: str = "web", replicas: int = 1, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": SELECTOR},
                     "template": template(**spec)}}


def job(name: str = "web-manage-db") -> dict[str, Any]:
    body = template(restart="OnFailure")
    body["metadata"]["labels"] = {"app.kubernetes.io/component": name}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 6, "template": body}}


def rendered(service_name: str, type_: str, *documents: dict[str, Any],
             after_pods: bool = False) -> Rendered:
    resource = Resource(service_name, type_, documents[0]["metadata"]["name"], "t.yml.j2",
                        after_pods=after_pods)
    return Rendered(resource=resource, text="", documents=list(documents))


def stack(*workloads: Rendered, port: int = 8080, target: int | str = "http") -> list[Rendered]:
    return [rendered("web", "configmap", configmap("web", {"config.json": "{}"})),
            rendered("web", "secret", secret("web", {"web.conf": "password = s3cret\n"})),
            rendered("web", "svc", service("web", port, target)),
            rendered("web", "pvc", {"kind": "PersistentVolumeClaim",
                                    "metadata": {"name": "web"}}),
            *workloads]


def plan_of(*workloads: Rendered, **kwargs: Any):
    return build_plan(stack(*workloads, **kwargs), NS, "web", "127.0.0.1")


# --- Jobs and workloads --------------------------------------------------------------------


def test_jobs_then_pods_in_registry_order_grouped_by_service_and_phase() -> None:
    plan = plan_of(rendered("web", "bootstrap", job("web-create-db")),
                   rendered("web", "bootstrap", job("web-manage-db")),
                   rendered("web", "pod", deployment()),
                   rendered("web", "bootstrap", job("web-policies"), after_pods=True))
    assert [(g.service, g.jobs, [r.name for r in g.runs]) for g in plan.groups] == [
        ("web", True, ["k8s-web-create-db", "k8s-web-manage-db"]),
        ("web", False, ["k8s-web-0"]),
        ("web", True, ["k8s-web-policies"])]


def test_a_job_is_one_pod_that_never_restarts_and_answers_for_no_service() -> None:
    run = plan_of(rendered("web", "bootstrap", job()),
                  rendered("web", "pod", deployment())).groups[0].runs[0]
    assert run.is_job and run.kind == "Job" and run.name == "k8s-web-manage-db"
    assert run.document["kind"] == "Pod"
    assert run.document["spec"]["restartPolicy"] == "Never"
    assert run.aliases == ()
    assert run.containers == ("k8s-web-manage-db-web",)


def test_a_failed_job_is_replayed_up_to_its_backoff_limit_and_a_workload_never() -> None:
    plan = plan_of(rendered("web", "bootstrap", job()), rendered("web", "pod", deployment()))
    assert [(r.kind, r.attempts) for r in plan.runs] == [("Job", 7), ("Deployment", 1)]


def test_every_pod_carries_the_harness_labels() -> None:
    plan = plan_of(rendered("web", "bootstrap", job()), rendered("web", "pod", deployment()))
    labels = [r.document["metadata"]["labels"] for r in plan.runs]
    assert [(lb[LABEL], lb[KIND_LABEL]) for lb in labels] == [(NS, "Job"), (NS, "Deployment")]


def test_harness_variables_point_the_snmp_poller_at_the_snmpd_pod() -> None:
    # A cluster's snmpd is on the host network, polled at the node address; here it is a pod.
    assert harness_variables() == {"snmp_target_addresses": ["k8s-snmpd-0"]}


def test_deployment_pods_restart_on_failure_not_always() -> None:
    # podman 4.3.1 applies Always to init containers: it restarts a finished one and fails.
    run = plan_of(rendered("web", "pod", deployment())).runs[0]
    assert run.document["spec"]["restartPolicy"] == "OnFailure"
    assert run.document["spec"]["initContainers"][0]["name"] == "wait-db"


def test_replicas_become_pods_behind_one_alias_and_only_the_first_is_published() -> None:
    plan = plan_of(rendered("web", "pod", deployment(replicas=2)))
    assert [(r.name, r.aliases) for r in plan.runs] == [("k8s-web-0", ("web",)),
                                                        ("k8s-web-1", ("web",))]
    assert [r.published for r in plan.runs] == [
        (Published("web", "127.0.0.1", 8080),), ()]
    assert any("2 replicas as 2 pods" in note for note in plan.notes)


def test_a_daemonset_is_one_pod_without_the_host_network() -> None:
    daemonset = deployment("agent", hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
    daemonset["kind"] = "DaemonSet"
    del daemonset["spec"]["replicas"]
    plan = plan_of(rendered("web", "pod", deployment()), rendered("web", "pod", daemonset))
    agent = plan.runs[1]
    assert agent.name == "k8s-agent-0"
    assert "hostNetwork" not in agent.document["spec"]
    assert "dnsPolicy" not in agent.document["spec"]
    assert "DaemonSet agent: one pod (one node), hostNetwork off" in plan.notes


# --- Services ------------------------------------------------------------------------------


def test_a_service_is_a_network_alias_of_the_pods_it_selects() -> None:
    run = plan_of(rendered("web", "pod", deployment())).runs[0]
    assert run.aliases == ("web",)
    assert run.network_argument("k8s-telemetry") == "k8s-telemetry:alias=web"


def test_a_pod_without_a_service_joins_the_network_without_alias() -> None:
    run = plan_of(rendered("web", "bootstrap", job()),
                  rendered("web", "pod", deployment())).groups[0].runs[0]
    assert run.network_argument("k8s-telemetry") == "k8s-telemetry"


def test_a_service_remapping_a_port_is_refused() -> None:
    with pytest.raises(PlanError, match="maps port 80 to 8080: a network alias cannot remap"):
        plan_of(rendered("web", "pod", deployment()), port=80, target="http")


def test_a_service_targeting_an_unknown_port_is_refused() -> None:
    with pytest.raises(PlanError, match="targetPort grpc is not a port"):
        check_service_ports(service("web", 8080, "grpc"), template()["spec"])


def test_selectors_match_subsets_and_an_empty_selector_matches_nothing() -> None:
    assert selects({"a": "1"}, {"a": "1", "b": "2"})
    assert not selects({"a": "1", "c": "3"}, {"a": "1", "b": "2"})
    assert not selects({}, {"a": "1"})


def test_without_a_pod_for_the_published_service_there_is_no_plan() -> None:
    with pytest.raises(PlanError, match="no pod answers for Service lb"):
        build_plan(stack(rendered("web", "pod", deployment())), NS, "lb")


# --- ports ---------------------------------------------------------------------------------


def test_only_the_published_service_ports_are_bound_on_the_host() -> None:
    published = [Published("web", "127.0.0.1", 8080)]
    spec = pod_spec(template()["spec"], "k8s-web-0", False, {"web": "cm"},
                    {("web", 0o400): secret_volume(secret("web", {}), 0o400)}, published)
    assert spec["containers"][0]["ports"] == [
        {"name": "http", "containerPort": 8080, "hostPort": 8080, "hostIP": "127.0.0.1"}]


def test_unpublished_container_ports_are_dropped() -> None:
    # podman 4.3.1 binds every containerPort on the host, hostPort or not.
    spec = pod_spec(template()["spec"], "k8s-web-0", False, {"web": "cm"},
                    {("web", 0o400): secret_volume(secret("web", {}), 0o400)}, [])
    assert "ports" not in spec["containers"][0]


# --- ConfigMaps, Secrets, claims, emptyDirs ------------------------------------------------


def test_configmaps_are_played_with_the_pod_under_a_content_hashed_name() -> None:
    run = plan_of(rendered("web", "pod", deployment())).runs[0]
    (played,) = run.config_maps
    name = played["metadata"]["name"]
    assert name.startswith(f"{CONFIGMAP_PREFIX}web-") and played["data"] == {"config.json": "{}"}
    volumes = {v["name"]: v for v in run.document["spec"]["volumes"]}
    assert volumes["config"]["configMap"]["name"] == name
    documents = list(yaml.safe_load_all(run.play_text()))
    assert [d["kind"] for d in documents] == ["ConfigMap", "Pod"]


def test_changed_configmap_content_gets_a_new_volume_and_a_new_pod_hash() -> None:
    before = plan_of(rendered("web", "pod", deployment())).runs[0]
    changed = stack(rendered("web", "pod", deployment()))
    changed[0] = rendered("web", "configmap", configmap("web", {"config.json": '{"a": 1}'}))
    after = build_plan(changed, NS, "web").runs[0]
    assert after.config_maps[0]["metadata"]["name"] != before.config_maps[0]["metadata"]["name"]
    assert after.spec_hash != before.spec_hash


def test_the_same_input_gives_the_same_hash() -> None:
    first = plan_of(rendered("web", "pod", deployment())).runs[0]
    again = plan_of(rendered("web", "pod", deployment())).runs[0]
    assert first.spec_hash == again.spec_hash
    assert first.document["metadata"]["labels"][HASH_LABEL] == first.spec_hash
    assert first.document["metadata"]["labels"][LABEL] == NS


def test_a_secret_becomes_a_volume_of_decoded_files_with_the_volume_mode() -> None:
    plan = plan_of(rendered("web", "pod", deployment()))
    (volume,) = plan.secret_volumes
    assert volume.secret == "web"
    assert [(f.path, f.data, f.mode) for f in volume.files] == [
        ("web.conf", b"password = s3cret\n", 0o400)]
    mounted = {v["name"]: v for v in plan.runs[0].document["spec"]["volumes"]}["secrets"]
    assert mounted == {"name": "secrets", "persistentVolumeClaim": {"claimName": volume.name}}


def test_secret_string_data_is_taken_as_is() -> None:
    document = {"metadata": {"name": "s"}, "stringData": {"a": "plain"}}
    assert [(f.path, f.data) for f in secret_volume(document, 0o644).files] == [("a", b"plain")]


def test_no_password_reaches_the_play_file() -> None:
    run = plan_of(rendered("web", "pod", deployment())).runs[0]
    text = run.play_text()
    assert "s3cret" not in text and base64.b64encode(b"password = s3cret\n").decode() not in text


def test_the_secret_tarball_holds_the_files_with_their_modes() -> None:
    volume = secret_volume(secret("web", {"a.conf": "x = 1\n"}), 0o400)
    with tarfile.open(fileobj=io.BytesIO(secret_tarball(volume))) as tar:
        (member,) = tar.getmembers()
        assert (member.name, member.mode) == ("a.conf", 0o400)
        assert tar.extractfile(member).read() == b"x = 1\n"


def test_claims_and_emptydirs_get_harness_names() -> None:
    # podman 4.3.1 names an emptyDir's volume after the pod volume and shares it between pods;
    # the Ansible stack has volumes named like the claims (mariadb, redis...).
    plan = plan_of(rendered("web", "pod", deployment(replicas=2)))
    assert plan.claims == (f"{CLAIM_PREFIX}web",)
    first, second = plan.runs
    volumes = {v["name"]: v for v in first.document["spec"]["volumes"] if "emptyDir" in v}
    assert list(volumes) == ["k8s-empty-web-0-scratch"]
    mounts = first.document["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "k8s-empty-web-0-scratch", "mountPath": "/tmp/x"} in mounts
    assert {"name": "data", "mountPath": "/data"} in mounts
    claim = {v["name"]: v for v in first.document["spec"]["volumes"]}["data"]
    assert claim["persistentVolumeClaim"]["claimName"] == f"{CLAIM_PREFIX}web"
    assert "k8s-empty-web-1-scratch" in {v["name"] for v in second.document["spec"]["volumes"]}
    assert {"k8s-empty-web-0-scratch", f"{CLAIM_PREFIX}web"} <= plan.volume_names()


def test_long_annotations_are_left_out_but_still_hashed() -> None:
    # podman 4.3.1 refuses annotation values over 63 characters (the 64-hex config hash).
    run = plan_of(rendered("web", "pod", deployment())).runs[0]
    assert "annotations" not in run.document["metadata"]
    changed = deployment()
    changed["spec"]["template"]["metadata"]["annotations"] = {
        "telemetry.openstack.org/config-hash": "b" * 64}
    assert plan_of(rendered("web", "pod", changed)).runs[0].spec_hash != run.spec_hash


def test_readiness_probes_are_exec_commands_run_in_the_named_container() -> None:
    run = plan_of(rendered("web", "pod", deployment())).runs[0]
    assert [(p.container, p.command) for p in run.probes] == [
        ("k8s-web-0-web", ("telemetry_healthcheck", "listen", "8080"))]


def test_liveness_probes_are_left_out() -> None:
    # podman would make it a healthcheck run by systemd timers; there is no systemd here.
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = {
        "exec": {"command": ["true"]}}
    run = plan_of(rendered("web", "pod", body)).runs[0]
    assert "livenessProbe" not in run.document["spec"]["containers"][0]


def test_a_probe_podman_exec_cannot_run_is_refused() -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
        "httpGet": {"path": "/", "port": 8080}}
    with pytest.raises(PlanError, match="not exec"):
        plan_of(rendered("web", "pod", body))


def test_a_volume_type_without_a_mapping_is_refused() -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}})
    with pytest.raises(PlanError, match="volume h is of a type the harness does not map"):
        plan_of(rendered("web", "pod", body))


# --- the whole rendered stack --------------------------------------------------------------


@pytest.fixture(scope="module")
def stack_plan():
    return build_plan(list(rendered_all()), NS, "loadbalancer")


def test_every_job_and_workload_of_the_stack_has_a_pod(stack_plan) -> None:
    documents = [d for item in rendered_all() for d in item.documents]
    jobs = {d["metadata"]["name"] for d in documents if d["kind"] == "Job"}
    workloads = {d["metadata"]["name"] for d in documents
                 if d["kind"] in ("Deployment", "DaemonSet")}
    assert {r.workload for r in stack_plan.runs if r.is_job} == jobs
    assert {r.workload for r in stack_plan.runs if not r.is_job} == workloads


def test_every_service_of_the_stack_is_an_alias_and_the_lb_is_published(stack_plan) -> None:
    documents = [d for item in rendered_all() for d in item.documents]
    services = {d["metadata"]["name"] for d in documents if d["kind"] == "Service"}
    assert {a for r in stack_plan.runs for a in r.aliases} == services
    assert sorted(p.port for p in stack_plan.published) == [15000, 18041, 18042]
    assert stack_plan.network == "k8s-telemetry"


def test_the_stack_jobs_come_before_the_pods_of_their_service(stack_plan) -> None:
    order = [(g.service, g.jobs) for g in stack_plan.groups]
    assert order.index(("keystone", True)) < order.index(("keystone", False))
    # gnocchi's archive policies need gnocchi-api serving: a Job group after its pods.
    assert order.count(("gnocchi", True)) == 2
    last_gnocchi_jobs = stack_plan.groups[max(i for i, k in enumerate(order)
                                              if k == ("gnocchi", True))]
    assert [r.workload for r in last_gnocchi_jobs.runs] == ["gnocchi-archive-policies"]


def test_no_stack_play_file_carries_a_password(stack_plan) -> None:
    from tests.unit.k8s_fixtures import fake_passwords

    text = "".join(r.play_text() for r in stack_plan.runs)
    assert not [key for key, value in fake_passwords().items() if value in text]


# --- the CLI's bad input: refused before podman is called -----------------------------------


def test_harness_up_without_a_passwords_file_is_bad_input(tmp_path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["harness", "up", "--passwords", str(tmp_path / "missing.yml")],
                    out=out, err=err)
    assert code == 2 and "passwords" in err.getvalue()


def test_harness_up_publishing_an_unknown_service_is_bad_input(tmp_path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["harness", "up", "--passwords", str(write_passwords(tmp_path)),
                     "--publish-service", "nosuch"], out=out, err=err)
    assert code == 2
    assert "no pod answers for Service nosuch" in err.getvalue()


def test_a_retried_job_is_summed_up_by_the_last_lines_that_say_something() -> None:
    logs = ("--- logs of k8s-x-y (last 40 lines)\n"
            "2026-11-25 17:29:15.420 15 ERROR ceilometer ConnectFailure: refused\n"
            "2026-11-25 17:29:15.420 15 ERROR ceilometer \x1b[00m\n"
            "2026-11-25 17:29:15.421 15 ERROR ceilometer \n")
    assert last_messages(logs) == ["ConnectFailure: refused"]
