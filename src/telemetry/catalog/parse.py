"""The strict catalog parser: every key known, every type checked, every name resolved.

Errors name the entry and the key ("service gnocchi, container gnocchi-api: unknown key
'healtcheck'; known keys: ...").
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from telemetry.catalog.model import (
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
from telemetry.common.errors import BadInput
from telemetry.common.yaml_files import check_known_keys

HEALTHCHECK_TYPES = ("http", "listen", "established", "mariadb")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_PORT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PERM_RE = re.compile(r"^0[0-7]{3}$")

_TOP_KEYS = ("releases", "default_release", "users", "images", "profiles", "services")
_RELEASE_KEYS = ("openstack", "upgrade_from", "features")
_USER_KEYS = ("uid", "home")
_IMAGE_KEYS = ("parent", "project_source", "extra_context")
_SERVICE_KEYS = ("group", "reached_at", "restart", "enabled", "depends_on", "log_dir",
                 "containers", "databases", "keystone")
_RESTARTS = ("all_at_once", "one_host_at_a_time")
_CONTAINER_KEYS = ("image", "user", "command", "ports", "environment", "config_files",
                   "volumes", "network", "healthcheck", "bootstrap", "upgrade", "hand_over",
                   "group", "enabled", "log_volumes", "frontends", "idempotent_posts")
_UPGRADE_KEYS = ("drain", "reset_state", "finalize")
_CONFIG_FILE_KEYS = ("src", "dest", "owner", "perm")
_HEALTHCHECK_KEYS = ("type", "port", "peer", "path", "protocol")
_KEYSTONE_KEYS = ("user", "type", "description", "needs_admin")


class CatalogError(BadInput):
    """The catalog is malformed; the message names the entry and the key."""


def parse_catalog(raw: Any) -> Catalog:
    if not isinstance(raw, dict):
        raise CatalogError("catalog: must be a mapping with users, images, profiles, services")
    check_known_keys("catalog", raw, _TOP_KEYS, CatalogError)
    users = {name: _parse_user(name, spec) for name, spec in _section(raw, "users").items()}
    images = {name: _parse_image(name, spec) for name, spec in _section(raw, "images").items()}
    _check_image_tree(images)
    profiles = {name: _parse_profile(name, spec, images)
                for name, spec in _section(raw, "profiles").items()}
    services = {name: _parse_service(name, spec, images, users)
                for name, spec in _section(raw, "services").items()}
    _check_references(services)
    releases = {name: _parse_release(name, spec)
                for name, spec in _section(raw, "releases").items()}
    default_release = _require("catalog", raw, "default_release", str)
    if default_release not in releases:
        raise CatalogError(f"catalog: key 'default_release' names {default_release!r}, not one "
                           f"of the releases ({', '.join(releases)})")
    _check_upgrade_paths(releases)
    return Catalog(users=users, images=images, profiles=profiles, services=services,
                   releases=releases, default_release=default_release)


def _check_upgrade_paths(releases: dict[str, Release]) -> None:
    """A release upgrades only from releases listed before it: the list is oldest first."""
    seen: list[str] = []
    for release in releases.values():
        for source in release.upgrade_from:
            if source not in seen:
                raise CatalogError(f"release {release.name}: key 'upgrade_from' names "
                                   f"{source!r}, which is not a release listed before it "
                                   f"({', '.join(seen) or 'none'})")
        seen.append(release.name)


def _parse_release(name: str, spec: Any) -> Release:
    where = f"release {name}"
    if not _NAME_RE.match(str(name)):
        raise CatalogError(f"{where}: name must match {_NAME_RE.pattern} (a Debian codename)")
    check_known_keys(where, spec, _RELEASE_KEYS, CatalogError)
    openstack = _require(where, spec, "openstack", str)
    if not re.match(r"^[a-z0-9][a-z0-9.]*$", openstack):
        raise CatalogError(f"{where}: key 'openstack' must be a release name or number usable "
                           f"as an image tag, got {openstack!r}")
    return Release(name=name, openstack=openstack,
                   upgrade_from=_string_list(where, spec, "upgrade_from"),
                   features=_feature_names(where, spec))


def _feature_names(where: str, spec: dict[str, Any]) -> tuple[str, ...]:
    names = _string_list(where, spec, "features")
    for name in names:
        if not _PORT_NAME_RE.match(name):
            raise CatalogError(f"{where}: feature {name!r} must match {_PORT_NAME_RE.pattern} "
                               "(it is the variable enable_<feature>)")
    return names


# --- helpers --------------------------------------------------------------------------------

def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict) or not value:
        raise CatalogError(f"catalog: section {key!r} is missing or not a mapping")
    return value


def _require(where: str, spec: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in spec:
        raise CatalogError(f"{where}: key {key!r} is required")
    value = spec[key]
    # bool is an int subclass: a port of `true` is a typo, not port 1.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise CatalogError(f"{where}: key {key!r} must be {_kind_name(kind)}, got {value!r}")
    return value


def _optional(where: str, spec: dict[str, Any], key: str, kind: type | tuple[type, ...],
              default: Any) -> Any:
    if key not in spec or spec[key] is None:
        return default
    return _require(where, spec, key, kind)


def _string_list(where: str, spec: dict[str, Any], key: str) -> tuple[str, ...]:
    values = _optional(where, spec, key, list, [])
    for value in values:
        if not isinstance(value, str):
            raise CatalogError(f"{where}: key {key!r} must be a list of strings, got {value!r}")
    return tuple(values)


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {"str": "a string", "int": "an integer", "bool": "true or false",
             "list": "a list", "dict": "a mapping"}
    return " or ".join(names.get(k.__name__, k.__name__) for k in _kinds(kind))


# --- users, images, profiles ----------------------------------------------------------------

def _parse_user(name: str, spec: Any) -> User:
    where = f"user {name}"
    check_known_keys(where, spec, _USER_KEYS, CatalogError)
    uid = _require(where, spec, "uid", int)
    if not 100 <= uid < 1000:
        raise CatalogError(f"{where}: key 'uid' must be a system id (100-999), got {uid}")
    return User(name=name, uid=uid, home=_require(where, spec, "home", str))


def _parse_image(name: str, spec: Any) -> Image:
    where = f"image {name}"
    if not _NAME_RE.match(name):
        raise CatalogError(f"{where}: name must match {_NAME_RE.pattern}")
    check_known_keys(where, spec, _IMAGE_KEYS, CatalogError)
    if "parent" not in spec:
        raise CatalogError(f"{where}: key 'parent' is required (null for the root image)")
    parent = spec["parent"]
    if parent is not None and not isinstance(parent, str):
        raise CatalogError(f"{where}: key 'parent' must be an image name or null")
    return Image(name=name, parent=parent,
                 project_source=_optional(where, spec, "project_source", bool, False),
                 extra_context=_string_list(where, spec, "extra_context"))


def _check_image_tree(images: dict[str, Image]) -> None:
    roots = [i.name for i in images.values() if i.parent is None]
    if len(roots) != 1:
        raise CatalogError(f"images: exactly one image must have parent null, got {roots}")
    for image in images.values():
        seen = {image.name}
        parent = image.parent
        while parent is not None:
            if parent not in images:
                raise CatalogError(f"image {image.name}: key 'parent' names unknown image "
                                   f"{parent!r}")
            if parent in seen:
                raise CatalogError(f"image {image.name}: key 'parent' makes a cycle via {parent}")
            seen.add(parent)
            parent = images[parent].parent


def _parse_profile(name: str, spec: Any, images: dict[str, Image]) -> tuple[str, ...]:
    if not isinstance(spec, list):
        raise CatalogError(f"profile {name}: must be a list of image names")
    for image in spec:
        if image not in images:
            raise CatalogError(f"profile {name}: unknown image {image!r}")
    return tuple(spec)


# --- services and containers ----------------------------------------------------------------

def _parse_service(name: str, spec: Any, images: dict[str, Image],
                   users: dict[str, User]) -> Service:
    where = f"service {name}"
    if not _NAME_RE.match(name):
        raise CatalogError(f"{where}: name must match {_NAME_RE.pattern}")
    check_known_keys(where, spec, _SERVICE_KEYS, CatalogError)
    group = _require(where, spec, "group", str)
    enabled = _optional(where, spec, "enabled", bool, True)
    containers_spec = _require(where, spec, "containers", dict)
    containers = {cname: _parse_container(name, cname, cspec, group, enabled, images, users)
                  for cname, cspec in containers_spec.items()}
    log_dir = _optional(where, spec, "log_dir", str, None)
    if log_dir is not None and not log_dir.startswith("/"):
        raise CatalogError(f"{where}: key 'log_dir' must be an absolute path, got {log_dir!r}")
    databases = _string_list(where, spec, "databases")
    for database in databases:
        if not _PORT_NAME_RE.match(database):
            raise CatalogError(f"{where}: key 'databases' entry {database!r} must match "
                               f"{_PORT_NAME_RE.pattern} (it names variables)")
    reached_at = _optional(where, spec, "reached_at", str, None)
    if reached_at not in (None, "first", "every"):
        raise CatalogError(f"{where}: key 'reached_at' must be first or every, got "
                           f"{reached_at!r}")
    restart = _optional(where, spec, "restart", str, "all_at_once")
    if restart not in _RESTARTS:
        raise CatalogError(f"{where}: key 'restart' must be {' or '.join(_RESTARTS)}, got "
                           f"{restart!r}")
    return Service(name=name, group=group, enabled=enabled, reached_at=reached_at,
                   restart=restart,
                   depends_on=_string_list(where, spec, "depends_on"),
                   containers=containers, log_dir=log_dir, databases=databases,
                   keystone=_parse_keystone(where, spec.get("keystone")))


def _parse_keystone(where: str, spec: Any) -> Keystone | None:
    if spec is None:
        return None
    where = f"{where}, keystone"
    check_known_keys(where, spec, _KEYSTONE_KEYS, CatalogError)
    return Keystone(user=_require(where, spec, "user", str),
                    type=_optional(where, spec, "type", str, None),
                    description=_optional(where, spec, "description", str, ""),
                    needs_admin=_optional(where, spec, "needs_admin", bool, False))


def _parse_container(service: str, name: str, spec: Any, group: str, enabled: bool,
                     images: dict[str, Image], users: dict[str, User]) -> Container:
    where = f"service {service}, container {name}"
    if not _NAME_RE.match(str(name)):
        raise CatalogError(f"{where}: name must match {_NAME_RE.pattern}")
    check_known_keys(where, spec, _CONTAINER_KEYS, CatalogError)
    image = _require(where, spec, "image", str)
    if image not in images:
        raise CatalogError(f"{where}: key 'image' names unknown image {image!r}")
    user = _require(where, spec, "user", str)
    if user != "root" and user not in users:
        raise CatalogError(f"{where}: key 'user' names unknown user {user!r}")
    ports = _parse_ports(where, _optional(where, spec, "ports", dict, {}))
    environment = _optional(where, spec, "environment", dict, {})
    volumes = _string_list(where, spec, "volumes")
    return Container(
        name=name, service=service, image=image, user=user,
        command=_require(where, spec, "command", str),
        group=_optional(where, spec, "group", str, group),
        enabled=_optional(where, spec, "enabled", bool, enabled),
        ports=ports,
        environment={str(k): str(v) for k, v in environment.items()},
        config_files=tuple(_parse_config_file(where, f, users)
                           for f in _optional(where, spec, "config_files", list, [])),
        volumes=volumes,
        network=_optional(where, spec, "network", str, None),
        healthcheck=_parse_healthcheck(where, spec.get("healthcheck"), ports),
        bootstrap=_optional(where, spec, "bootstrap", str, None),
        upgrade=_parse_upgrade(where, spec.get("upgrade"), volumes),
        hand_over=_optional(where, spec, "hand_over", str, None),
        log_volumes=_optional(where, spec, "log_volumes", bool, False),
        frontends=_parse_frontends(where, _optional(where, spec, "frontends", dict, {}), ports),
        idempotent_posts=_parse_regex(where, spec, "idempotent_posts"),
    )


def _parse_regex(where: str, spec: dict[str, Any], key: str) -> str | None:
    pattern = _optional(where, spec, key, str, None)
    if pattern is None:
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        raise CatalogError(f"{where}: key {key!r} is not a regular expression: {exc}") from exc
    if not pattern.startswith("^") or not pattern.endswith("$"):
        raise CatalogError(f"{where}: key {key!r} must match whole paths (^...$), got {pattern!r}")
    return pattern


def _parse_upgrade(where: str, spec: Any, volumes: tuple[str, ...]) -> UpgradeSteps | None:
    if spec is None:
        return None
    where = f"{where}, upgrade"
    check_known_keys(where, spec, _UPGRADE_KEYS, CatalogError)
    steps = UpgradeSteps(**{key: _optional(where, spec, key, str, None) for key in _UPGRADE_KEYS})
    # Emptying a path outside every volume would change nothing: the new container starts
    # from its image anyway.
    mount_points = [volume.split(":")[1] for volume in volumes if ":" in volume]
    if steps.reset_state is not None and not any(
            steps.reset_state.rstrip("/").startswith(point.rstrip("/") + "/")
            for point in mount_points):
        raise CatalogError(f"{where}: key 'reset_state' must be a path below one of the "
                           f"container's volumes ({', '.join(mount_points) or 'it has none'}), "
                           f"got {steps.reset_state!r}")
    return steps


def _parse_frontends(where: str, frontends: dict[Any, Any],
                     ports: dict[str, int]) -> dict[str, str]:
    for port_name, backend in frontends.items():
        if port_name not in ports:
            raise CatalogError(f"{where}: key 'frontends' names {port_name!r}, not one of the "
                               f"container's ports ({', '.join(sorted(ports)) or 'none'})")
        if not isinstance(backend, str):
            raise CatalogError(f"{where}: key 'frontends' entry {port_name!r} must name a "
                               f"container, got {backend!r}")
    return dict(frontends)


def _parse_ports(where: str, ports: dict[Any, Any]) -> dict[str, int]:
    for port_name, port in ports.items():
        if not isinstance(port_name, str) or not _PORT_NAME_RE.match(port_name):
            raise CatalogError(f"{where}: key 'ports' name {port_name!r} must match "
                               f"{_PORT_NAME_RE.pattern} (the variable {port_name}_port sets it)")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise CatalogError(f"{where}: key 'ports' entry {port_name!r} is not a port number: "
                               f"{port!r}")
    return dict(ports)


def _parse_config_file(where: str, spec: Any, users: dict[str, User]) -> ConfigFile:
    where = f"{where}, config_files entry {spec!r}"
    check_known_keys(where, spec, _CONFIG_FILE_KEYS, CatalogError)
    owner = _require(where, spec, "owner", str)
    if owner != "root" and owner not in users:
        raise CatalogError(f"{where}: key 'owner' names unknown user {owner!r}")
    perm = _require(where, spec, "perm", str)
    if not _PERM_RE.match(perm):
        raise CatalogError(f"{where}: key 'perm' must be an octal mode like '0640'")
    return ConfigFile(src=_require(where, spec, "src", str),
                      dest=_require(where, spec, "dest", str), owner=owner, perm=perm)


def _parse_healthcheck(where: str, spec: Any, ports: dict[str, int]) -> Healthcheck | None:
    if spec is None:
        return None
    where = f"{where}, healthcheck"
    check_known_keys(where, spec, _HEALTHCHECK_KEYS, CatalogError)
    kind = _require(where, spec, "type", str)
    if kind not in HEALTHCHECK_TYPES:
        raise CatalogError(f"{where}: key 'type' must be one of {', '.join(HEALTHCHECK_TYPES)}, "
                           f"got {kind!r}")
    path = _optional(where, spec, "path", str, "/")
    protocol = _optional(where, spec, "protocol", str, "tcp")
    if protocol not in ("tcp", "udp"):
        raise CatalogError(f"{where}: key 'protocol' must be tcp or udp, got {protocol!r}")
    if kind == "established":
        if "port" in spec:
            raise CatalogError(f"{where}: an established check names the service it talks to "
                               f"(key 'peer'), not a port")
        # The peer's port is filled in once every service is parsed (_check_references).
        return Healthcheck(type=kind, port=0, port_name="",
                           peer=_require(where, spec, "peer", str), path=path, protocol=protocol)
    if "peer" in spec:
        raise CatalogError(f"{where}: key 'peer' is only for type established; a {kind} check "
                           f"names one of the container's own ports (key 'port')")
    port_name = _require(where, spec, "port", str)
    if port_name not in ports:
        raise CatalogError(f"{where}: key 'port' names {port_name!r}, not one of the "
                           f"container's ports ({', '.join(sorted(ports)) or 'none'})")
    return Healthcheck(type=kind, port=ports[port_name], port_name=port_name, path=path,
                       protocol=protocol)


def _check_references(services: dict[str, Service]) -> None:
    """depends_on, healthcheck peers, unique port names; peers' ports filled in."""
    owners: dict[str, str] = {}
    for service in services.values():
        for dependency in service.depends_on:
            if dependency not in services:
                raise CatalogError(f"service {service.name}: key 'depends_on' names unknown "
                                   f"service {dependency!r}; known: {', '.join(services)}")
        for container in service.containers.values():
            for port_name in container.ports:
                if port_name in owners:
                    raise CatalogError(
                        f"service {service.name}, container {container.name}: port name "
                        f"{port_name!r} is also used by {owners[port_name]}; port names are "
                        "variables (<name>_port) and must be unique")
                owners[port_name] = container.name
            _resolve_peer(services, service, container)
    _check_frontends(services)
    _check_acyclic(services)


def _check_frontends(services: dict[str, Service]) -> None:
    containers = {c.name: c for s in services.values() for c in s.containers.values()}
    for service in services.values():
        for container in service.containers.values():
            for port_name, backend in container.frontends.items():
                target = containers.get(backend)
                if target is None or not target.ports:
                    raise CatalogError(
                        f"service {service.name}, container {container.name}: key 'frontends' "
                        f"entry {port_name!r} names {backend!r}, which is not a container "
                        "with ports")


def _resolve_peer(services: dict[str, Service], service: Service, container: Container) -> None:
    check = container.healthcheck
    if check is None or check.peer is None:
        return
    where = f"service {service.name}, container {container.name}, healthcheck"
    peer = services.get(check.peer)
    if peer is None:
        raise CatalogError(f"{where}: key 'peer' names unknown service {check.peer!r}; known: "
                           f"{', '.join(services)}")
    first = peer.first_port()
    if first is None:
        raise CatalogError(f"{where}: key 'peer' names {check.peer!r}, which has no ports")
    peer_container = next(c for c in peer.containers.values() if first[0] in c.ports)
    frontends = [(name, balancer.ports[name]) for other in services.values()
                 for balancer in other.containers.values()
                 for name, backend in balancer.frontends.items() if backend == peer_container.name]
    resolved = Healthcheck(type=check.type, port=first[1], port_name=first[0], peer=check.peer,
                           path=check.path, protocol=check.protocol,
                           frontend_ports=tuple(number for _, number in frontends),
                           frontend_port_names=tuple(name for name, _ in frontends))
    # Frozen dataclasses: swap the container in its (mutable) service dict.
    service.containers[container.name] = replace(container, healthcheck=resolved)


def _check_acyclic(services: dict[str, Service]) -> None:
    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            cycle = " -> ".join((*trail[trail.index(name):], name))
            raise CatalogError(f"service {trail[-1]}: key 'depends_on' makes a cycle: {cycle}")
        for dependency in services[name].depends_on:
            visit(dependency, (*trail, name))

    for name in services:
        visit(name, ())
