"""The actions of `telemetry-k8s resource`: load and render a selection, then create, delete
or read it on a cluster. The CLI only parses arguments and prints what these return."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telemetry.catalog import Catalog, load_catalog
from telemetry.k8s.apply import Cluster, Outcome
from telemetry.k8s.generate import build_registry
from telemetry.k8s.registry import Registry
from telemetry.k8s.render import Rendered, ResourceRenderer
from telemetry.k8s.special import load_special
from telemetry.k8s.variables import Variables, load_variables
from telemetry.k8s.waits import WAITED_KINDS, WaitResult, state_of, wait_for

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Project:
    """Everything a render needs, loaded once."""

    root: Path
    catalog: Catalog
    registry: Registry
    variables: Variables
    namespace: str
    # Kolla-style per-file overrides (<configdir>/config), merged as telemetry-ansible does.
    overrides_dir: Path | None = None
    # Where config templates are looked up (<dir>/<service>/templates); empty: ansible/roles.
    roles_dirs: tuple[Path, ...] = ()

    def renderer(self) -> ResourceRenderer:
        return ResourceRenderer(self.root, self.catalog, self.registry, self.variables,
                                self.namespace, self.overrides_dir, self.roles_dirs)


def load_project(root: Path, passwords: Path | Mapping[str, Any],
                 globals_files: Sequence[Path] = (), extra: Mapping[str, Any] | None = None,
                 namespace: str | None = None, overrides_dir: Path | None = None,
                 catalog_path: Path | None = None,
                 roles_dirs: Sequence[Path] = ()) -> Project:
    """The catalog (``catalog_path``, else TELEMETRY_CATALOG or the packaged one), the
    variables layered over its defaults, and the registry generated from both."""
    catalog = load_catalog(catalog_path)
    overrides = dict(extra or {})
    if namespace:
        overrides["k8s_namespace"] = namespace
    variables = load_variables(root, passwords, globals_files, overrides, catalog)
    special = load_special(root / "kubernetes" / "service_resources.yml", catalog)
    registry = build_registry(catalog, special, variables.values)
    return Project(root=root, catalog=catalog, registry=registry, variables=variables,
                   namespace=str(variables.values["k8s_namespace"]), overrides_dir=overrides_dir,
                   roles_dirs=tuple(roles_dirs))


def render_selection(project: Project, type_: str, names: Sequence[str]) -> list[Rendered]:
    return project.renderer().render_all(project.registry.select(type_, names))


def documents(rendered: Sequence[Rendered]) -> list[dict[str, Any]]:
    return [document for item in rendered for document in item.documents]


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    waits: list[WaitResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(w.ok for w in self.waits)


def _groups(rendered: Sequence[Rendered]) -> list[list[Rendered]]:
    """Consecutive resources of one service and phase: what is applied before waiting."""
    def key(item: Rendered) -> tuple[str, int]:
        return item.resource.service, item.resource.phase()

    return [list(group) for _, group in itertools.groupby(rendered, key=key)]


def create(cluster: Cluster, rendered: Sequence[Rendered], timeout: float, progress: Progress,
           registry: Registry | None = None, wait: bool = True,
           clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> Report:
    """Apply in registry order; after each service's Jobs and after its pods, wait for them
    (a service's pods need its migrations, the next service needs its pods). Pods applied
    without their Jobs (`create pod aodh`) first wait for those Jobs to be complete: the
    registry's order is the dependency data, whatever subset is asked for."""
    report = Report()
    start = clock()
    report.outcomes.append(cluster.ensure_namespace())
    progress(report.outcomes[-1].line())
    done: set[str] = set()
    for group in _groups(rendered):
        needed = _jobs_needed(group, registry, done)
        if wait and needed and not cluster.server_dry_run:
            progress(f"[{clock() - start:6.1f}s] {group[0].resource.service} pods need "
                     f"{', '.join(needed)}")
            result = wait_for([_job_reference(name) for name in needed], cluster.get,
                              timeout, progress, clock=clock, sleep=sleep)
            report.waits.append(result)
            if not result.ok:
                break
        applied = []
        for item in group:
            for document in item.documents:
                outcome = cluster.apply(document)
                report.outcomes.append(outcome)
                progress(f"[{clock() - start:6.1f}s] {outcome.line()}")
                applied.append(document)
        workloads = [d for d in applied if d["kind"] in WAITED_KINDS]
        if wait and workloads and not cluster.server_dry_run:
            result = wait_for(workloads, cluster.get, timeout, progress, clock=clock,
                              sleep=sleep)
            report.waits.append(result)
            done.update(label.split("/", 1)[1] for label in result.ready)
            if not result.ok:
                break
    report.seconds = clock() - start
    return report


def _jobs_needed(group: Sequence[Rendered], registry: Registry | None,
                 done: set[str]) -> list[str]:
    resource = group[0].resource
    if registry is None or resource.type != "pod":
        return []
    return [name for name in registry.jobs_before_pods(resource.service) if name not in done]


def _job_reference(name: str) -> dict[str, Any]:
    """Enough of a Job manifest to read it back."""
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}}


def delete(cluster: Cluster, rendered: Sequence[Rendered], include_pvcs: bool,
           progress: Progress) -> Report:
    """Reverse registry order; claims (the data) stay unless include_pvcs."""
    report = Report()
    for item in reversed(rendered):
        for document in reversed(item.documents):
            if document["kind"] == "PersistentVolumeClaim" and not include_pvcs:
                outcome = Outcome(document["kind"], document["metadata"]["name"], "kept",
                                  "--include-pvcs deletes it")
            else:
                outcome = cluster.delete(document)
            report.outcomes.append(outcome)
            progress(outcome.line())
    return report


@dataclass(frozen=True)
class StatusRow:
    type: str
    name: str
    kind: str
    state: str
    ready: bool


def status(cluster: Cluster, rendered: Sequence[Rendered]) -> list[StatusRow]:
    rows = []
    for item in rendered:
        for document in item.documents:
            found = cluster.get(document)
            state = state_of(document["kind"], found)
            rows.append(StatusRow(item.resource.type, document["metadata"]["name"],
                                  document["kind"], state.detail, state.ready))
    return rows

