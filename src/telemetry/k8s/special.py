"""kubernetes/service_resources.yml: the registry's exceptions (services with no resources, a
service's own toolbox Jobs, a Service type), checked against the catalog.

The loader is strict, as the catalog's is: an unknown key, a wrong type or a name the catalog
does not have is a RegistryError (exit 2) naming the file, the entry and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The toolbox's own list of tasks: an extra Job must run one of them.
from telemetry.bootstrap.cli import TASKS
from telemetry.catalog import Catalog
from telemetry.common.yaml_files import check_known_keys
from telemetry.k8s.registry import RegistryError

_TOP_KEYS = ("services", "containers")
_SERVICE_KEYS = ("skip", "jobs")
_JOB_KEYS = ("name", "task", "spec", "after_pods")
_CONTAINER_KEYS = ("service_type",)


@dataclass(frozen=True)
class ExtraJob:
    """A toolbox Job of one service beyond the generated ones; ``spec`` is rendered with the
    variables when the Job is."""

    service: str
    name: str
    task: str
    spec: Mapping[str, Any]
    after_pods: bool = False


@dataclass(frozen=True)
class Special:
    skipped: Mapping[str, str]          # service -> why it gets no resources
    jobs: tuple[ExtraJob, ...]
    service_types: Mapping[str, str]    # container -> its Service's type ("{{ }}" allowed)

    def jobs_of(self, service: str) -> list[ExtraJob]:
        return [job for job in self.jobs if job.service == service]


NOTHING_SPECIAL = Special(skipped={}, jobs=(), service_types={})


def load_special(path: Path, catalog: Catalog) -> Special:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry exceptions: "
                            f"{exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RegistryError(f"{path}: the registry exceptions are not valid YAML{where}") from None
    return parse_special(raw or {}, catalog, str(path))


def parse_special(raw: Any, catalog: Catalog, where: str = "registry exceptions") -> Special:
    check_known_keys(where, raw, _TOP_KEYS, RegistryError)
    services = _mapping(where, raw, "services")
    containers = _mapping(where, raw, "containers")
    skipped: dict[str, str] = {}
    jobs: list[ExtraJob] = []
    for name, spec in services.items():
        here = f"{where}: services.{name}"
        if name not in catalog.services:
            raise RegistryError(f"{here}: no such service in the catalog; known: "
                                f"{', '.join(catalog.services)}")
        check_known_keys(here, spec, _SERVICE_KEYS, RegistryError)
        if "skip" in spec:
            skipped[name] = _string(here, spec, "skip")
        jobs += [_job(f"{here}.jobs", name, job) for job in _list(here, spec, "jobs")]
    service_types: dict[str, str] = {}
    known = {c.name for c in catalog.containers()}
    for name, spec in containers.items():
        here = f"{where}: containers.{name}"
        if name not in known:
            hint = (f" (a service; its containers: {', '.join(catalog.services[name].containers)})"
                    if name in catalog.services else "")
            raise RegistryError(f"{here}: no such container in the catalog{hint}; known: "
                                f"{', '.join(sorted(known))}")
        check_known_keys(here, spec, _CONTAINER_KEYS, RegistryError)
        service_types[name] = _string(here, spec, "service_type")
    return Special(skipped=skipped, jobs=tuple(jobs), service_types=service_types)


def _job(where: str, service: str, spec: Any) -> ExtraJob:
    check_known_keys(where, spec, _JOB_KEYS, RegistryError)
    name = _string(where, spec, "name")
    # Resource names start with their service (the naming rule every resource follows).
    if name != service and not name.startswith(f"{service}-"):
        raise RegistryError(f"{where}: key 'name' {name!r} must start with {service}-")
    task = _string(where, spec, "task")
    if task not in TASKS:
        raise RegistryError(f"{where}: key 'task' {task!r} is no telemetry.bootstrap task; "
                            f"known: {', '.join(TASKS)}")
    after_pods = spec.get("after_pods", False)
    if not isinstance(after_pods, bool):
        raise RegistryError(f"{where}: key 'after_pods' must be true or false")
    return ExtraJob(service=service, name=name, task=task,
                    spec=_mapping(where, spec, "spec", required=True), after_pods=after_pods)


def _mapping(where: str, spec: dict[str, Any], key: str, required: bool = False,
             ) -> dict[str, Any]:
    value = spec.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or not value:
        raise RegistryError(f"{where}: key {key!r} must be a mapping")
    return value


def _list(where: str, spec: dict[str, Any], key: str) -> list[Any]:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise RegistryError(f"{where}: key {key!r} must be a list")
    return value


def _string(where: str, spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value:
        raise RegistryError(f"{where}: key {key!r} must be a non-empty string")
    return value
