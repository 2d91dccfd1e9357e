"""The specs of the toolbox Jobs (``python3 -m telemetry.bootstrap TASK --spec``), built by the
catalog's own derivations (database_spec, keystone_registration) so that both engines bootstrap
the same databases, users, services and endpoints.

A spec carries passwords: it goes into the Job's Secret, and the Job carries its hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from telemetry.catalog import Catalog, database_spec, keystone_registration
from telemetry.k8s.generate import CREATE_DB_TASK, REGISTER_TASK
from telemetry.k8s.registry import Resource
from telemetry.k8s.variables import evaluate


@dataclass(frozen=True)
class JobSpec:
    task: str
    text: str
    # Every host the spec points the task at (URLs and `host` fields): what its Job waits for.
    hosts: frozenset[str] = frozenset()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def job_spec(resource: Resource, catalog: Catalog, values: Mapping[str, Any]) -> JobSpec:
    """The spec of a toolbox Job (or of its Secret, which has the same vars)."""
    task = str(resource.vars["task"])
    if "spec" in resource.vars:
        spec = evaluate(resource.vars["spec"], values)
    elif task == CREATE_DB_TASK:
        spec = {"database": {**values["database_admin_spec"],
                             "databases": database_spec(catalog.services[resource.service],
                                                        values)}}
    elif task == REGISTER_TASK:
        spec = registration(catalog, resource.service, values)
    else:
        raise ValueError(f"{resource.label}: task {task} has no spec")  # a generator bug
    return JobSpec(task=task, text=yaml.safe_dump(spec, default_flow_style=False,
                                                  sort_keys=False),
                   hosts=frozenset(reached_hosts(spec)))


def reached_hosts(value: Any) -> set[str]:
    """The hosts a spec reaches: each URL's host and each `host` field, at any depth."""
    if isinstance(value, dict):
        found = {str(value["host"])} if isinstance(value.get("host"), str) else set()
        return found.union(*(reached_hosts(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(reached_hosts(v) for v in value))
    if isinstance(value, str) and "://" in value:
        host = urlsplit(value).hostname
        return {host} if host else set()
    return set()


def registration(catalog: Catalog, service: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """One service's part of the keystone registration: its user and its catalog entry."""
    everything = keystone_registration(catalog, values)
    user = str(values[f"{service}_keystone_user"])
    return {"auth": values["keystone_admin_auth_spec"],
            "keystone": {"region": everything["region"],
                         "users": [u for u in everything["users"] if u["name"] == user],
                         "services": [s for s in everything["services"]
                                      if s["name"] == service]}}
