"""Molecule verify (testinfra): the stack the podman kube play harness brought up.

A local stand-in for a cluster, not a cluster test. The API checks are the all-in-one
scenario's own (imported from ansible/molecule/default/tests/test_default.py, so both scenarios
verify exactly the same things through the load balancer on 127.0.0.1): a keystone token for
every service user, gnocchi's horizon-mimic policy and rule, measures written and read back
aggregated, aodh's alarm list. The rest checks what only the harness does.
"""

from __future__ import annotations

import json
import socket

import test_default as all_in_one

# The all-in-one checks and their fixtures, collected here as this module's own.
passwords = all_in_one.passwords
admin_token = all_in_one.admin_token
test_a_keystone_token_is_issued_for_every_service_user = (
    all_in_one.test_a_keystone_token_is_issued_for_every_service_user)
test_gnocchi_lists_horizon_mimic_through_the_load_balancer = (
    all_in_one.test_gnocchi_lists_horizon_mimic_through_the_load_balancer)
test_gnocchi_accepts_measures_and_returns_them_aggregated = (
    all_in_one.test_gnocchi_accepts_measures_and_returns_them_aggregated)
test_aodh_lists_alarms_through_the_load_balancer = (
    all_in_one.test_aodh_lists_alarms_through_the_load_balancer)

LABEL = "telemetry.openstack.org/harness"
KIND_LABEL = "telemetry.openstack.org/harness-kind"


def harness_pods(host) -> dict[str, dict]:
    names = host.check_output(
        f"podman pod ls --filter label={LABEL} --format '{{{{.Name}}}}'").split()
    return {name: json.loads(host.check_output(f"podman pod inspect {name}"))
            for name in names}


def test_every_job_completed_and_every_workload_runs(host) -> None:
    pods = harness_pods(host)
    assert {"k8s-mariadb-0", "k8s-keystone-0", "k8s-gnocchi-api-0", "k8s-gnocchi-api-1",
            "k8s-aodh-api-0", "k8s-loadbalancer-0", "k8s-keystone-manage-db",
            "k8s-gnocchi-archive-policies"} <= set(pods)
    for pod in pods.values():
        containers = [c["Name"] for c in pod["Containers"] if not c["Name"].endswith("-infra")]
        states = json.loads(host.check_output(f"podman container inspect {' '.join(containers)}"))
        for state in states:
            if pod["Labels"][KIND_LABEL] == "Job":
                assert (state["State"]["Status"], state["State"]["ExitCode"]) == ("exited", 0), \
                    state["Name"]
            else:
                assert state["State"]["Status"] == "running", state["Name"]


def test_a_service_name_resolves_to_every_replica_it_selects(host) -> None:
    # gnocchi-api has 2 replicas: two pods behind one DNS alias, as a Service's endpoints.
    lines = host.check_output(
        "podman exec k8s-loadbalancer-0-nginx getent ahostsv4 gnocchi-api").splitlines()
    assert len({line.split()[0] for line in lines}) == 2


def test_only_the_load_balancer_is_bound_on_the_host() -> None:
    # The pods have their own network namespaces: mariadb, rabbitmq, keystone... are not on
    # the host, so the harness never clashes with what runs there.
    for port in (3306, 5672, 5000, 8041, 8042, 6379):
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex(("127.0.0.1", port)) != 0, port
    for port in (15000, 18041, 18042):
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
