"""Waiting for Jobs to complete and Deployments/DaemonSets to roll out, with a line per change
of state (elapsed seconds first) and a timeout that names what was not ready."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

WAITED_KINDS = ("Job", "Deployment", "DaemonSet")


@dataclass(frozen=True)
class State:
    ready: bool
    failed: bool
    detail: str


@dataclass
class WaitResult:
    ready: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.pending


def state_of(kind: str, obj: Mapping[str, Any] | None) -> State:
    if obj is None:
        # Read right after it was applied, or needed by what is applied: absent is an error.
        return State(False, True, "absent")
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    generation = (obj.get("metadata") or {}).get("generation", 0)
    observed = status.get("observedGeneration", 0)
    if kind == "Job":
        for condition in status.get("conditions") or []:
            if condition.get("status") != "True":
                continue
            if condition.get("type") == "Complete":
                return State(True, False, "complete")
            if condition.get("type") == "Failed":
                return State(False, True, f"failed: {condition.get('reason', '')} "
                                          f"{condition.get('message', '')}".strip())
        return State(False, False, f"{status.get('active', 0) or 0} active, "
                                   f"{status.get('failed', 0) or 0} failed pod(s)")
    if kind == "Deployment":
        wanted = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0) or 0
        available = status.get("availableReplicas", 0) or 0
        total = status.get("replicas", 0) or 0
        ready = observed >= generation and updated == wanted == available and total == wanted
        return State(ready, False, f"{available}/{wanted} available, {updated} updated")
    if kind == "DaemonSet":
        wanted = status.get("desiredNumberScheduled", 0) or 0
        updated = status.get("updatedNumberScheduled", 0) or 0
        available = status.get("numberAvailable", 0) or 0
        ready = observed >= generation and updated == wanted and available == wanted
        return State(ready, False, f"{available}/{wanted} nodes available")
    return State(True, False, "present")


def wait_for(documents: Iterable[Mapping[str, Any]], read: Callable[[Mapping[str, Any]], Any],
             timeout: float, progress: Callable[[str], None], interval: float = 2.0,
             clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep) -> WaitResult:
    """Poll each Job/Deployment/DaemonSet until ready, failed or out of time."""
    pending = {f"{d['kind'].lower()}/{d['metadata']['name']}": d for d in documents
               if d["kind"] in WAITED_KINDS}
    result = WaitResult()
    start = clock()
    last: dict[str, str] = {}
    while pending:
        for label, document in list(pending.items()):
            state = state_of(document["kind"], read(document))
            if last.get(label) != state.detail:
                last[label] = state.detail
                progress(f"[{clock() - start:6.1f}s] {label}: {state.detail}")
            if state.ready:
                result.ready.append(label)
                del pending[label]
            elif state.failed:
                result.failed.append(label)
                del pending[label]
        if not pending:
            break
        if clock() - start >= timeout:
            result.pending = sorted(pending)
            progress(f"[{clock() - start:6.1f}s] timed out after {timeout:g}s waiting for "
                     f"{', '.join(result.pending)}")
            break
        sleep(interval)
    return result
