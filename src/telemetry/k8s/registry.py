"""kubernetes/service_resources.yml: every service's resources by type, in deploy order.

Services come in the file's order (dependencies first). Within a service the types go
pvc, configmap, secret, svc, bootstrap, pod; a bootstrap entry with ``after_pods: true`` (the
archive policies, which need gnocchi-api serving) goes after the pods. ``delete`` walks the
same order backwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TYPES = ("pvc", "configmap", "secret", "svc", "bootstrap", "pod")
ALL = "all"


class RegistryError(ValueError):
    """The registry file is malformed, or a type or name asked for is not in it."""


class UnknownSelection(RegistryError):
    """An unknown resource type or name; the message lists the valid ones."""


@dataclass(frozen=True)
class Resource:
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


def load_registry(path: Path) -> Registry:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"cannot read the registry {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), list):
        raise RegistryError(f"{path}: expected a mapping with a `services` list")
    return parse_registry(raw["services"], str(path))


def parse_registry(services: Iterable[Any], where: str = "registry") -> Registry:
    names: list[str] = []
    resources: list[Resource] = []
    for service in services:
        if not isinstance(service, dict) or not isinstance(service.get("name"), str):
            raise RegistryError(f"{where}: each service needs a name, got {service!r}")
        name = service["name"]
        names.append(name)
        by_type = service.get("resources") or {}
        for type_, entries in by_type.items():
            if type_ not in TYPES:
                raise RegistryError(f"{where}: service {name}: unknown type {type_!r} "
                                    f"(valid: {', '.join(TYPES)})")
            for entry in entries or []:
                resources.append(_resource(where, name, type_, entry))
    return Registry(services=tuple(names), resources=tuple(resources))


def _resource(where: str, service: str, type_: str, entry: Any) -> Resource:
    here = f"{where}: service {service}, {type_} entry {entry!r}"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise RegistryError(f"{here}: needs a name")
    if not isinstance(entry.get("template"), str):
        raise RegistryError(f"{here}: needs a template")
    unknown = set(entry) - {"name", "template", "vars", "after_pods"}
    if unknown:
        raise RegistryError(f"{here}: unknown field(s) {', '.join(sorted(unknown))}")
    return Resource(service=service, type=type_, name=entry["name"], template=entry["template"],
                    vars=dict(entry.get("vars") or {}),
                    after_pods=bool(entry.get("after_pods", False)))
