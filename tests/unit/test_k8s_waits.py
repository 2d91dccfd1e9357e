"""Reading workload status the way kubectl rollout status does, with a fake clock."""

from __future__ import annotations

from typing import Any

from telemetry.k8s.waits import state_of, wait_for


def deployment(replicas: int = 2, available: int = 2, updated: int = 2, total: int = 2,
               generation: int = 2, observed: int = 2) -> dict[str, Any]:
    return {"kind": "Deployment", "metadata": {"name": "aodh-api", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": total,
                       "updatedReplicas": updated, "availableReplicas": available}}


def test_deployment_states() -> None:
    assert state_of("Deployment", deployment()).ready
    assert not state_of("Deployment", deployment(observed=1)).ready  # not seen the change yet
    assert not state_of("Deployment", deployment(updated=1)).ready   # old pods still serving
    assert not state_of("Deployment", deployment(total=3)).ready     # an old pod still up
    assert state_of("Deployment", deployment(available=1)).detail == "1/2 available, 2 updated"


def test_job_states() -> None:
    complete = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True",
                                         "reason": "BackoffLimitExceeded"}]}}
    assert state_of("Job", complete).ready
    assert state_of("Job", failed).failed
    assert "BackoffLimitExceeded" in state_of("Job", failed).detail
    assert state_of("Job", {"status": {"active": 1}}).detail == "1 active, 0 failed pod(s)"
    assert state_of("Job", None).failed


def test_daemonset_with_no_node_selected_is_done() -> None:
    assert state_of("DaemonSet", {"status": {"desiredNumberScheduled": 0}}).ready


def test_wait_prints_changes_with_elapsed_time_and_times_out() -> None:
    now = [0.0]
    answers = iter([deployment(available=0), deployment(available=0), deployment(available=1),
                    deployment(available=1), deployment(available=1)])
    lines: list[str] = []
    result = wait_for([deployment()], lambda _: next(answers), timeout=7, progress=lines.append,
                      interval=2, clock=lambda: now[0],
                      sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert result.pending == ["deployment/aodh-api"] and not result.ok
    assert lines[0] == "[   0.0s] deployment/aodh-api: 0/2 available, 2 updated"
    assert lines[1] == "[   4.0s] deployment/aodh-api: 1/2 available, 2 updated"
    assert "timed out after 7s waiting for deployment/aodh-api" in lines[-1]


def test_wait_stops_on_a_failed_job() -> None:
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}
    job = {"kind": "Job", "metadata": {"name": "aodh-manage-db"}}
    result = wait_for([job], lambda _: failed, timeout=60, progress=lambda _: None,
                      sleep=lambda _: None)
    assert result.failed == ["job/aodh-manage-db"]
