"""The service catalog: typed loader and validation.

Every engine (image build, Ansible, Kubernetes) reads the catalog through :func:`load_catalog`.
A malformed catalog raises :class:`CatalogError` naming the entry and field that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

HEALTHCHECK_TYPES = ("http", "listen", "established")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_PERM_RE = re.compile(r"^0[0-7]{3}$")


class CatalogError(ValueError):
    """The catalog file is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    home: str


@dataclass(frozen=True)
class Image:
    name: str
    parent: str | None
    project_source: bool = False
    extra_context: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigFile:
    src: str
    dest: str
    owner: str
    perm: str


@dataclass(frozen=True)
class Healthcheck:
    type: str
    port: int
    path: str = "/"
    protocol: str = "tcp"


@dataclass(frozen=True)
class Container:
    name: str
    service: str
    image: str
    user: str
    command: str
    group: str
    enabled: bool
    ports: dict[str, int] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    config_files: tuple[ConfigFile, ...] = ()
    volumes: tuple[str, ...] = ()
    network: str | None = None
    healthcheck: Healthcheck | None = None
    bootstrap: str | None = None


@dataclass(frozen=True)
class Service:
    name: str
    group: str
    enabled: bool
    depends_on: tuple[str, ...]
    containers: dict[str, Container]
    # Where the service's containers write log files when log_to_file is set (the images'
    # directory); the deploy mounts the `<service>_logs` volume there for logrotate to reach.
    log_dir: str | None = None

    @property
    def logs_volume(self) -> str | None:
        return f"{self.name}_logs" if self.log_dir else None


@dataclass(frozen=True)
class Catalog:
    users: dict[str, User]
    images: dict[str, Image]
    profiles: dict[str, tuple[str, ...]]
    services: dict[str, Service]

    def containers(self) -> list[Container]:
        return [c for s in self.services.values() for c in s.containers.values()]


def default_catalog_path() -> Path:
    return Path(str(resources.files("telemetry.catalog").joinpath("services.yml")))


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or default_catalog_path()
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read the catalog {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: the catalog must be a mapping with users, images, services")
    return parse_catalog(raw)


def parse_catalog(raw: dict[str, Any]) -> Catalog:
    users = {name: _parse_user(name, spec) for name, spec in _section(raw, "users").items()}
    images = {name: _parse_image(name, spec) for name, spec in _section(raw, "images").items()}
    _check_image_tree(images)
    profiles = {name: _parse_profile(name, spec, images)
                for name, spec in _section(raw, "profiles").items()}
    services = {name: _parse_service(name, spec, images, users)
                for name, spec in _section(raw, "services").items()}
    for service in services.values():
        for dep in service.depends_on:
            if dep not in services:
                raise CatalogError(f"service {service.name}: depends_on names unknown service "
                                   f"{dep!r}; known: {', '.join(sorted(services))}")
    return Catalog(users=users, images=images, profiles=profiles, services=services)


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict) or not value:
        raise CatalogError(f"catalog: section {key!r} is missing or not a mapping")
    return value


def _require(where: str, spec: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(spec, dict):
        raise CatalogError(f"{where}: must be a mapping, got {type(spec).__name__}")
    if key not in spec:
        raise CatalogError(f"{where}: field {key!r} is required")
    value = spec[key]
    if not isinstance(value, kind):
        raise CatalogError(f"{where}: field {key!r} must be {_kind_name(kind)}, got {value!r}")
    return value


def _optional(where: str, spec: dict[str, Any], key: str, kind: type | tuple[type, ...],
              default: Any) -> Any:
    if key not in spec or spec[key] is None:
        return default
    return _require(where, spec, key, kind)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _parse_user(name: str, spec: Any) -> User:
    where = f"user {name}"
    uid = _require(where, spec, "uid", int)
    if not 100 <= uid < 1000:
        raise CatalogError(f"{where}: field 'uid' must be a system id (100-999), got {uid}")
    return User(name=name, uid=uid, home=_require(where, spec, "home", str))


def _parse_image(name: str, spec: Any) -> Image:
    where = f"image {name}"
    if not _NAME_RE.match(name):
        raise CatalogError(f"{where}: name must match {_NAME_RE.pattern}")
    if not isinstance(spec, dict) or "parent" not in spec:
        raise CatalogError(f"{where}: field 'parent' is required (null for the root image)")
    parent = spec["parent"]
    if parent is not None and not isinstance(parent, str):
        raise CatalogError(f"{where}: field 'parent' must be an image name or null")
    return Image(
        name=name,
        parent=parent,
        project_source=_optional(where, spec, "project_source", bool, False),
        extra_context=tuple(_optional(where, spec, "extra_context", list, [])),
    )


def _check_image_tree(images: dict[str, Image]) -> None:
    roots = [i.name for i in images.values() if i.parent is None]
    if len(roots) != 1:
        raise CatalogError(f"images: exactly one image must have parent null, got {roots}")
    for image in images.values():
        seen = {image.name}
        parent = image.parent
        while parent is not None:
            if parent not in images:
                raise CatalogError(f"image {image.name}: field 'parent' names unknown image "
                                   f"{parent!r}")
            if parent in seen:
                raise CatalogError(f"image {image.name}: field 'parent' makes a cycle via {parent}")
            seen.add(parent)
            parent = images[parent].parent


def _parse_profile(name: str, spec: Any, images: dict[str, Image]) -> tuple[str, ...]:
    if not isinstance(spec, list):
        raise CatalogError(f"profile {name}: must be a list of image names")
    for image in spec:
        if image not in images:
            raise CatalogError(f"profile {name}: unknown image {image!r}")
    return tuple(spec)


def _parse_service(name: str, spec: Any, images: dict[str, Image],
                   users: dict[str, User]) -> Service:
    where = f"service {name}"
    group = _require(where, spec, "group", str)
    enabled = _optional(where, spec, "enabled", bool, True)
    containers_spec = _require(where, spec, "containers", dict)
    containers = {
        cname: _parse_container(name, cname, cspec, group, enabled, images, users)
        for cname, cspec in containers_spec.items()
    }
    log_dir = _optional(where, spec, "log_dir", str, None)
    if log_dir is not None and not log_dir.startswith("/"):
        raise CatalogError(f"{where}: field 'log_dir' must be an absolute path, got {log_dir!r}")
    return Service(name=name, group=group, enabled=enabled,
                   depends_on=tuple(_optional(where, spec, "depends_on", list, [])),
                   containers=containers, log_dir=log_dir)


def _parse_container(service: str, name: str, spec: Any, group: str, enabled: bool,
                     images: dict[str, Image], users: dict[str, User]) -> Container:
    where = f"service {service}, container {name}"
    image = _require(where, spec, "image", str)
    if image not in images:
        raise CatalogError(f"{where}: field 'image' names unknown image {image!r}")
    user = _require(where, spec, "user", str)
    if user != "root" and user not in users:
        raise CatalogError(f"{where}: field 'user' names unknown user {user!r}")
    ports = _optional(where, spec, "ports", dict, {})
    for port_name, port in ports.items():
        if not isinstance(port, int) or not 0 < port < 65536:
            raise CatalogError(f"{where}: field 'ports' entry {port_name!r} is not a port number")
    return Container(
        name=name,
        service=service,
        image=image,
        user=user,
        command=_require(where, spec, "command", str),
        group=_optional(where, spec, "group", str, group),
        enabled=_optional(where, spec, "enabled", bool, enabled),
        ports=dict(ports),
        environment={k: str(v) for k, v in _optional(where, spec, "environment", dict, {}).items()},
        config_files=tuple(_parse_config_file(where, f, users)
                           for f in _optional(where, spec, "config_files", list, [])),
        volumes=tuple(_optional(where, spec, "volumes", list, [])),
        network=_optional(where, spec, "network", str, None),
        healthcheck=_parse_healthcheck(where, spec.get("healthcheck"), ports),
        bootstrap=_optional(where, spec, "bootstrap", str, None),
    )


def _parse_config_file(where: str, spec: Any, users: dict[str, User]) -> ConfigFile:
    where = f"{where}, config_files entry {spec!r}"
    owner = _require(where, spec, "owner", str)
    if owner != "root" and owner not in users:
        raise CatalogError(f"{where}: field 'owner' names unknown user {owner!r}")
    perm = _require(where, spec, "perm", str)
    if not _PERM_RE.match(perm):
        raise CatalogError(f"{where}: field 'perm' must be an octal mode like '0640'")
    return ConfigFile(src=_require(where, spec, "src", str),
                      dest=_require(where, spec, "dest", str),
                      owner=owner, perm=perm)


def _parse_healthcheck(where: str, spec: Any, ports: dict[str, int]) -> Healthcheck | None:
    if spec is None:
        return None
    where = f"{where}, healthcheck"
    kind = _require(where, spec, "type", str)
    if kind not in HEALTHCHECK_TYPES:
        raise CatalogError(f"{where}: field 'type' must be one of {HEALTHCHECK_TYPES}, "
                           f"got {kind!r}")
    port = _require(where, spec, "port", (int, str))
    if isinstance(port, str):
        if port not in ports:
            raise CatalogError(f"{where}: field 'port' names {port!r}, not in the container's "
                               f"ports {sorted(ports)}")
        port = ports[port]
    return Healthcheck(type=kind, port=port, path=_optional(where, spec, "path", str, "/"),
                       protocol=_optional(where, spec, "protocol", str, "tcp"))
