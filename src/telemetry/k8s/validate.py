"""Offline validation of rendered manifests against the official Kubernetes schemas shipped
by kubernetes-validate (strict: unknown fields are errors).

kubernetes_validate.validate() re-reads and re-parses the schema files on every call; here one
validator per (Kubernetes version, kind) is built once, which makes validating every resource
against three versions several times faster. The schema files and the version selection are
kubernetes-validate's own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

from telemetry.common.errors import BadInput

# Versions the tests and `telemetry-k8s resource validate` check by default.
DEFAULT_VERSIONS = ("1.29", "1.30", "1.31")


class ValidationUnavailable(BadInput):
    """kubernetes-validate has no schema for this version or kind."""


@dataclass(frozen=True)
class Problem:
    version: str
    kind: str
    name: str
    path: str
    message: str

    def line(self) -> str:
        return f"{self.version} {self.kind}/{self.name}: {self.path or '.'}: {self.message}"


def supported_versions() -> list[str]:
    return [kv.major_minor(v) for v in kv.all_versions()]


@functools.cache
def _schema_version(version: str) -> str:
    wanted = kv.major_minor(version.lstrip("v"))
    candidates = [v for v in kv.all_versions()
                  if tuple(map(int, kv.major_minor(v).split("."))) <=
                  tuple(map(int, wanted.split(".")))]
    if not candidates:
        raise ValidationUnavailable(f"no schemas for Kubernetes {version}; kubernetes-validate "
                                    f"has {', '.join(supported_versions())}")
    return candidates[-1]


@functools.cache
def _definitions(schema_dir: str) -> Resource:
    return Resource.from_contents(kv.schema_contents(
        f"kubernetes-json-schema/{schema_dir}/_definitions.json", schema_dir))


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> jsonschema.protocols.Validator:
    schema_dir = f"v{_schema_version(version)}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(
            f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        raise ValidationUnavailable(f"no schema for {kind} {api_version} in Kubernetes "
                                    f"{version}") from None
    registry = Resource.from_contents(schema) @ (_definitions(schema_dir) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate(document: Mapping[str, Any], versions: Iterable[str] = DEFAULT_VERSIONS,
             ) -> list[Problem]:
    """Every schema error of one manifest, for each version (not only the first)."""
    kind = str(document.get("kind"))
    name = str(document.get("metadata", {}).get("name"))
    problems = []
    for version in versions:
        validator = _validator(version, kind, str(document.get("apiVersion")))
        for error in validator.iter_errors(document):
            path = ".".join(str(p) for p in error.absolute_path)
            problems.append(Problem(version, kind, name, path, error.message))
    return problems


def validate_all(documents: Iterable[Mapping[str, Any]],
                 versions: Iterable[str] = DEFAULT_VERSIONS) -> list[Problem]:
    versions = tuple(versions)
    return [p for d in documents for p in validate(d, versions)]
