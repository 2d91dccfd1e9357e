"""The registry: every service's resources by type, in deploy order (built from the catalog by
:mod:`telemetry.k8s.generate`).

Services come dependencies first (the catalog's one service order). Within a service the types
go pvc, configmap, secret, svc, bootstrap, pod; a bootstrap entry with ``after_pods`` (gnocchi's
archive policies, which need gnocchi-api serving) goes after the pods. ``delete`` walks the same
order backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telemetry.common.errors import BadInput

TYPES = ("pvc", "configmap", "secret", "svc", "bootstrap", "pod")
ALL = "all"


class RegistryError(BadInput):
    """The registry exceptions file is malformed, or a type or name asked for is not in the
    registry."""


class UnknownSelection(RegistryError):
    """An unknown resource type or name; the message lists the valid ones."""


@dataclass(frozen=True)
class Resource:
    """One resource: its template under services/ and what the template is rendered for
    (``vars``: the catalog ``container``, the ``volume`` a claim holds, the ``task`` of a
    toolbox Job, ...)."""

    service: str
    type: str
    name: str
    template: str
    vars: dict[str, Any] = field(default_factory=dict)
    after_pods: bool = False

    @property
    def label(self) -> str:
        return f"{self.type}/{self.name}"

    def phase(self) -> int:
        """Position of this resource's type within its service."""
        if self.type == "bootstrap" and self.after_pods:
            return len(TYPES)
        return TYPES.index(self.type)


@dataclass(frozen=True)
class Registry:
    services: tuple[str, ...]
    resources: tuple[Resource, ...]

    def ordered(self) -> list[Resource]:
        order = {name: index for index, name in enumerate(self.services)}
        return sorted(self.resources, key=lambda r: (order[r.service], r.phase()))

    def jobs_before_pods(self, service: str) -> list[str]:
        """The bootstrap Jobs a service's pods need done (its migrations): every bootstrap
        entry of the service not marked after_pods."""
        return [r.name for r in self.resources
                if r.service == service and r.type == "bootstrap" and not r.after_pods]

    def config_name(self, container: str) -> str | None:
        """The ConfigMap (and Secret) of a container's config files."""
        return next((r.name for r in self.resources
                     if r.type == "configmap" and r.vars.get("container") == container), None)

    def logging_name(self, service: str) -> str | None:
        """The service's logging ConfigMap (its logrotate rule), when it writes log files."""
        return next((r.name for r in self.resources if r.service == service
                     and r.type == "configmap" and "log_dir" in r.vars), None)

    def names(self, type_: str) -> list[str]:
        return [r.name for r in self.ordered() if type_ in (ALL, r.type)]

    def select(self, type_: str, names: Sequence[str]) -> list[Resource]:
        """The resources of a type (or all types) for names: services, resource names, or
        `all`. Unknown ones raise UnknownSelection listing what is valid."""
        if type_ != ALL and type_ not in TYPES:
            raise UnknownSelection(f"unknown resource type {type_!r}; valid types: "
                                   f"{', '.join((*TYPES, ALL))}")
        candidates = [r for r in self.ordered() if type_ in (ALL, r.type)]
        wanted = list(names) or [ALL]
        unknown = [n for n in wanted
                   if n != ALL and n not in self.services and n not in {r.name for r in candidates}]
        if unknown:
            raise UnknownSelection(
                f"unknown {'resource' if type_ == ALL else type_} name(s) "
                f"{', '.join(unknown)}; valid: {ALL}, services {', '.join(self.services)}, "
                f"resources {', '.join(dict.fromkeys(r.name for r in candidates))}")
        if ALL in wanted:
            return candidates
        return [r for r in candidates if r.service in wanted or r.name in wanted]
