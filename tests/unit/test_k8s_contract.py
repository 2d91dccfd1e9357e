"""The apply client against a recorded API contract (RecordingApiServer), not a cluster.

What is asserted is what telemetry-k8s sends: methods, paths, namespaces, content type, field
manager, dry-run and the order of requests, and how it reads the answers (Job completion,
rollouts). Whether the stack runs on Kubernetes is not something these tests can tell.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from telemetry.cli import k8s as cli
from tests.unit.k8s_contract import RecordingApiServer
from tests.unit.k8s_fixtures import write_passwords


@pytest.fixture
def api() -> RecordingApiServer:
    with RecordingApiServer() as server:
        yield server


def run(api: RecordingApiServer, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["resource", *args, "--kubeconfig", str(api.kubeconfig(tmp_path)),
                     "--passwords", str(write_passwords(tmp_path))], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_create_is_server_side_apply_into_the_namespace(api: RecordingApiServer,
                                                        tmp_path: Path) -> None:
    code, _, err = run(api, tmp_path, "create", "all", "aodh", "--namespace", "tele",
                       "--timeout", "5")
    assert code == 0, err
    patches = [r for r in api.api_requests() if r.method == "PATCH"]
    assert patches[0].path == "/api/v1/namespaces/tele"  # the namespace first
    for request in patches:
        assert request.content_type == "application/apply-patch+yaml"
        assert request.param("fieldManager") == "telemetry-k8s"
        assert request.param("force") == "true"
        assert request.param("dryRun") is None
    paths = [r.path for r in patches[1:]]
    assert all(p.startswith(("/api/v1/namespaces/tele/", "/apis/apps/v1/namespaces/tele/",
                             "/apis/batch/v1/namespaces/tele/")) for p in paths), paths
    assert "/api/v1/namespaces/tele/configmaps/aodh-api" in paths
    assert "/api/v1/namespaces/tele/secrets/aodh-api" in paths
    assert "/api/v1/namespaces/tele/services/aodh-api" in paths
    assert "/apis/batch/v1/namespaces/tele/jobs/aodh-create-db" in paths
    assert "/apis/apps/v1/namespaces/tele/deployments/aodh-notifier" in paths
    # The body is the manifest, namespace included.
    body = next(r.body for r in patches if r.path.endswith("/deployments/aodh-api"))
    assert body["kind"] == "Deployment" and body["metadata"]["namespace"] == "tele"
    # Jobs before Deployments, and each waited for (read back) before the pods are applied.
    jobs_done = max(i for i, r in enumerate(api.api_requests())
                    if r.method == "GET" and "/jobs/aodh-register" in r.path)
    first_pod = min(i for i, r in enumerate(api.api_requests())
                    if r.method == "PATCH" and "/deployments/" in r.path)
    assert jobs_done < first_pod
    assert "deployment/aodh-api: 1/1 available" in err
    assert "job/aodh-manage-db: complete" in err


def test_create_dry_run_server_sends_dry_run_and_waits_for_nothing(
        api: RecordingApiServer, tmp_path: Path) -> None:
    code, _, err = run(api, tmp_path, "create", "pod", "gnocchi", "--dry-run", "server")
    assert code == 0, err
    patches = [r for r in api.api_requests() if r.method == "PATCH"]
    assert patches and all(r.param("dryRun") == "All" for r in patches)
    assert not api.objects
    assert [r.path for r in patches[1:]] == [
        "/apis/apps/v1/namespaces/telemetry/deployments/gnocchi-api",
        "/apis/apps/v1/namespaces/telemetry/deployments/gnocchi-metricd"]


def test_dry_run_client_contacts_nothing(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["resource", "create", "svc", "aodh", "--dry-run", "client",
                     "--kubeconfig", str(tmp_path / "none"),
                     "--passwords", str(write_passwords(tmp_path))], out=out, err=err)
    assert code == 0, err.getvalue()
    assert "kind: Service" in out.getvalue() and "nothing sent" in err.getvalue()


def test_a_rerun_leaves_jobs_with_the_same_inputs_alone(api: RecordingApiServer,
                                                        tmp_path: Path) -> None:
    assert run(api, tmp_path, "create", "bootstrap", "aodh-create-db", "--timeout", "5")[0] == 0
    api.requests.clear()
    code, _, err = run(api, tmp_path, "create", "bootstrap", "aodh-create-db")
    assert code == 0, err
    assert "job/aodh-create-db: unchanged" in err
    assert not [r for r in api.api_requests() if "/jobs/" in r.path and r.method != "GET"]


def test_a_job_whose_inputs_changed_is_recreated(api: RecordingApiServer,
                                                 tmp_path: Path) -> None:
    assert run(api, tmp_path, "create", "bootstrap", "aodh-manage-db", "--timeout", "5")[0] == 0
    api.requests.clear()
    code, _, err = run(api, tmp_path, "create", "bootstrap", "aodh-manage-db",
                       "-e", "aodh_evaluation_interval=30", "--timeout", "5")
    assert code == 0, err
    job = "/apis/batch/v1/namespaces/telemetry/jobs/aodh-manage-db"
    calls = [(r.method, r.param("propagationPolicy")) for r in api.api_requests()
             if r.path == job]
    assert ("DELETE", "Background") in calls
    assert calls.index(("DELETE", "Background")) < calls.index(("PATCH", None))
    assert "job/aodh-manage-db: recreated" in err


def test_create_times_out_naming_what_is_not_ready(tmp_path: Path) -> None:
    with RecordingApiServer(workloads_ready=False) as api:
        code, _, err = run(api, tmp_path, "create", "pod", "memcached", "--timeout", "0")
    assert code == 1
    assert "timed out after 0s waiting for deployment/memcached" in err
    assert "not ready" in err and "deployment/memcached" in err


def test_delete_goes_backwards_and_keeps_claims(api: RecordingApiServer,
                                                tmp_path: Path) -> None:
    assert run(api, tmp_path, "create", "all", "mariadb", "--timeout", "5")[0] == 0
    api.requests.clear()
    code, _, err = run(api, tmp_path, "delete", "all", "mariadb")
    assert code == 0, err
    deletes = [r.path.rsplit("/", 2)[-2] for r in api.api_requests() if r.method == "DELETE"]
    # mariadb's ConfigMaps: its config files', then its logging rule's.
    assert deletes == ["deployments", "services", "secrets", "configmaps", "configmaps"]
    assert all(r.param("propagationPolicy") == "Background"
               for r in api.api_requests() if r.method == "DELETE")
    assert "persistentvolumeclaim/mariadb: kept" in err
    api.requests.clear()
    code, _, err = run(api, tmp_path, "delete", "pvc", "mariadb", "--include-pvcs")
    assert code == 0
    assert [(r.method, r.path) for r in api.api_requests()] == [
        ("DELETE", "/api/v1/namespaces/telemetry/persistentvolumeclaims/mariadb")]


def test_delete_of_absent_resources_is_not_an_error(api: RecordingApiServer,
                                                    tmp_path: Path) -> None:
    code, _, err = run(api, tmp_path, "delete", "svc", "aodh")
    assert code == 0, err
    assert "service/aodh-api: absent" in err


def test_status_reads_each_resource(api: RecordingApiServer, tmp_path: Path) -> None:
    code, out, _ = run(api, tmp_path, "status", "pod", "aodh")
    assert code == 1  # nothing created yet
    assert out.count("absent") == 4
    assert all(r.method == "GET" for r in api.api_requests())
    assert api.api_requests()[0].path == \
        "/apis/apps/v1/namespaces/telemetry/deployments/aodh-api"
    assert run(api, tmp_path, "create", "all", "aodh", "--timeout", "5")[0] == 0
    code, out, _ = run(api, tmp_path, "status", "pod", "aodh")
    assert code == 0
    assert "pod/aodh-listener" in out and "1/1 available" in out


def test_an_unreachable_api_server_is_exit_3(tmp_path: Path) -> None:
    with RecordingApiServer() as api:
        kubeconfig = api.kubeconfig(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["resource", "status", "svc", "aodh", "--kubeconfig", str(kubeconfig),
                     "--passwords", str(write_passwords(tmp_path))], out=out, err=err)
    assert code == 3
    assert "cannot reach the Kubernetes API at http://127.0.0.1:" in err.getvalue()


def test_pods_alone_wait_for_their_jobs_first(api: RecordingApiServer, tmp_path: Path) -> None:
    """`create pod aodh` without its Jobs: the registry says the pods need them, so nothing
    is applied until they are complete (here: never created, so it stops)."""
    code, _, err = run(api, tmp_path, "create", "pod", "aodh", "--timeout", "5")
    assert code == 1
    assert "aodh pods need aodh-create-db, aodh-register, aodh-manage-db" in err
    assert "job/aodh-create-db: absent" in err
    assert not [r for r in api.api_requests() if r.method == "PATCH" and "/deployments/" in r.path]
    assert run(api, tmp_path, "create", "bootstrap", "aodh", "--timeout", "5")[0] == 0
    code, _, err = run(api, tmp_path, "create", "pod", "aodh", "--timeout", "5")
    assert code == 0, err
    assert "deployment/aodh-evaluator: 1/1 available" in err


def test_delete_dry_run_server_deletes_nothing(api: RecordingApiServer, tmp_path: Path) -> None:
    assert run(api, tmp_path, "create", "configmap", "redis", "--timeout", "5")[0] == 0
    api.requests.clear()
    code, _, err = run(api, tmp_path, "delete", "configmap", "redis", "--dry-run", "server",
                       "-n", "telemetry")
    assert code == 0, err
    deletes = [r for r in api.api_requests() if r.method == "DELETE"]
    assert [(r.path, r.param("dryRun"), r.param("fieldManager")) for r in deletes] == [
        ("/api/v1/namespaces/telemetry/configmaps/redis", "All", None)]
    assert "/api/v1/namespaces/telemetry/configmaps/redis" in api.objects


def test_the_client_discovers_the_api_first(api: RecordingApiServer, tmp_path: Path) -> None:
    assert run(api, tmp_path, "status", "pod", "aodh-api")[0] == 1
    paths = [r.path for r in api.requests]
    assert paths[:2] == ["/version", "/apis"]
    assert "/apis/apps/v1" in paths
    assert paths.index("/apis/apps/v1") < paths.index(
        "/apis/apps/v1/namespaces/telemetry/deployments/aodh-api")
