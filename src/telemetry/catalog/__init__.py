"""The service catalog: the strict loader and what the engines derive from it.

Every engine (image build, Ansible, Kubernetes) reads the catalog through :func:`load_catalog`.
A malformed catalog raises :class:`CatalogError` (a BadInput: exit 2) naming the entry and key.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import yaml

from telemetry.catalog.derive import (
    CatalogVariableError,
    backend_containers,
    balancer_of,
    catalog_variables,
    container_enabled,
    database_spec,
    keystone_registration,
    loadbalancer_frontends,
    log_volumes,
    port_variable,
    resolve,
    service_order,
)
from telemetry.catalog.model import (
    RELEASE_LABEL,
    Catalog,
    ConfigFile,
    Container,
    Healthcheck,
    Image,
    Keystone,
    Release,
    Service,
    UpgradeSteps,
    User,
)
from telemetry.catalog.parse import HEALTHCHECK_TYPES, CatalogError, parse_catalog

__all__ = [
    "HEALTHCHECK_TYPES",
    "RELEASE_LABEL",
    "Catalog",
    "CatalogError",
    "CatalogVariableError",
    "ConfigFile",
    "Container",
    "Healthcheck",
    "Image",
    "Keystone",
    "Release",
    "Service",
    "UpgradeSteps",
    "User",
    "backend_containers",
    "balancer_of",
    "catalog_variables",
    "container_enabled",
    "database_spec",
    "default_catalog_path",
    "keystone_registration",
    "load_catalog",
    "loadbalancer_frontends",
    "log_volumes",
    "parse_catalog",
    "port_variable",
    "resolve",
    "service_order",
]


def default_catalog_path() -> Path:
    """The packaged catalog, or the file TELEMETRY_CATALOG names (a copy to try a new service
    with, as the tests do)."""
    override = os.environ.get("TELEMETRY_CATALOG")
    if override:
        return Path(override)
    return Path(str(resources.files("telemetry.catalog").joinpath("services.yml")))


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or default_catalog_path()
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read the catalog {path}: {exc}") from exc
    return parse_catalog(raw)
