"""What the engines derive from the catalog: the variable defaults, the one service order,
the catalog resolved against the operator's variables, and the bootstrap specs.

Both engines call these (Ansible through its vars and lookup plugins, telemetry-k8s through
its variables and renderer), so an override such as ``gnocchi_api_port: 9041`` reaches the
listener, the healthcheck, the probe, the Service and the keystone endpoint alike.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from telemetry.catalog.model import RELEASE_LABEL, Catalog, Container, Healthcheck, Service
from telemetry.common.errors import BadInput

# The address a container listens on: its host's (one instance's) address under Ansible, which
# runs containers in the host's network as Kolla does; every address of its pod under Kubernetes.
KUBERNETES_LISTEN_ADDRESS = "0.0.0.0"


class CatalogVariableError(BadInput):
    """A variable that overrides a catalog value is wrong (a port that is not a number, two
    services on one port, a command template that fails)."""


def port_variable(port_name: str) -> str:
    return f"{port_name}_port"


def service_order(catalog: Catalog) -> list[str]:
    """Services with their dependencies first, otherwise in catalog order: the one order of
    deploy, check, stop (reversed), destroy (reversed) and the Kubernetes registry."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dependency in catalog.services[name].depends_on:
            visit(dependency)
        ordered.append(name)

    for name in catalog.services:
        visit(name)
    return ordered


def balancers_first_order(catalog: Catalog) -> list[str]:
    """The Ansible engine's deploy order: service_order with each service that balances others
    (a container with frontends) moved before the first service it balances. The services
    reach each other through the load balancer there (keystone, to validate tokens), so it runs
    before them; its upstreams are addresses, which need nothing up yet. (Kubernetes keeps
    service_order: its nginx names the Services, which must exist when it starts.)"""
    order = service_order(catalog)
    for service in list(order):
        balanced = {catalog.container(name).service  # type: ignore[union-attr]
                    for container in catalog.services[service].containers.values()
                    for name in container.frontends.values()} - {service}
        if balanced:
            order.remove(service)
            order.insert(min(order.index(name) for name in balanced), service)
    return order


def catalog_variables(catalog: Catalog) -> dict[str, Any]:
    """The defaults every engine layers under the operator's globals: one per overridable
    catalog fact."""
    values: dict[str, Any] = {}
    for service in catalog.services.values():
        for container in service.containers.values():
            for name, number in container.ports.items():
                values[port_variable(name)] = number
            values[container.enable_variable] = container.enabled
        for database in service.databases:
            values[f"{database}_database_name"] = database
            values[f"{database}_database_user"] = database
        if service.keystone:
            values[f"{service.name}_keystone_user"] = service.keystone.user
    values["logrotate_log_paths"] = [f"{s.log_dir}/*.log" for s in catalog.services.values()
                                     if s.log_dir]
    values["loadbalancer_frontends"] = loadbalancer_frontends(catalog)
    values["telemetry_service_order"] = balancers_first_order(catalog)
    # One variable picks the release; the image tag follows it (group_vars' telemetry_tag).
    values["telemetry_base_release"] = catalog.default_release
    values["telemetry_release_tags"] = {r.name: r.tag for r in catalog.releases.values()}
    values["telemetry_release_label"] = RELEASE_LABEL
    values.update({f"enable_{feature}": False for feature in catalog.features()})
    return values


def loadbalancer_frontends(catalog: Catalog) -> list[dict[str, str]]:
    """What the load balancer serves, as templates of other variables (both engines resolve
    them after the merge, so a port override or the engine's own backend addresses flow in):
    [{balancer, name, listen_port, backend_port, backends, idempotent_posts}]. balancer is the
    container that serves it (each renders its own); <container>_backend_addresses is every
    address the container listens on (Ansible: from the inventory; Kubernetes: its Service);
    idempotent_posts is the backend's regex of resendable POSTs ("" for none)."""
    frontends: list[dict[str, str]] = []
    for balancer in catalog.containers():
        for listen, backend_name in balancer.frontends.items():
            backend = catalog.container(backend_name)
            assert backend is not None  # the parser checked it
            stem = backend.variable_stem
            frontends.append({
                "balancer": balancer.name,
                "name": stem,
                "listen_port": "{{ " + port_variable(listen) + " }}",
                "backend_port": "{{ " + port_variable(next(iter(backend.ports))) + " }}",
                "backends": "{{ " + stem + "_backend_addresses }}",
                "idempotent_posts": backend.idempotent_posts or ""})
    return frontends


def backend_containers(catalog: Catalog) -> list[Container]:
    """The containers a load balancer frontend balances."""
    names = [name for c in catalog.containers() for name in c.frontends.values()]
    return [c for c in catalog.containers() if c.name in names]


def balancer_of(catalog: Catalog, backend: str) -> Container | None:
    """The load balancer container with a frontend for the container named `backend`."""
    return next((c for c in catalog.containers() if backend in c.frontends.values()), None)


def container_enabled(values: Mapping[str, Any], container: Container) -> bool:
    """enable_<container> when set, else the catalog's default: the one enabled rule."""
    return _truthy(values.get(container.enable_variable, container.enabled))


def resolve(catalog: Catalog, values: Mapping[str, Any], engine: str | None = None) -> Catalog:
    """The catalog as these variables make it: ports from <name>_port, healthchecks aimed at
    the resolved ports, commands rendered. ``engine`` defaults to orchestration_engine.

    ``values`` is read key by key (Ansible's variables are templated on access)."""
    engine = engine or str(values.get("orchestration_engine", "ANSIBLE"))
    ports = _resolved_ports(catalog, values)
    listen = (KUBERNETES_LISTEN_ADDRESS if engine == "KUBERNETES"
              else str(values.get("api_interface_address", "127.0.0.1")))
    context = ChainMap({"listen_address": listen}, dict(_port_values(ports)), values)
    services: dict[str, Service] = {}
    for service in catalog.services.values():
        containers = {name: _resolve_container(c, ports, context)
                      for name, c in service.containers.items()}
        services[service.name] = replace(service, containers=containers)
    return replace(catalog, services=services)


def _port_values(ports: Mapping[str, int]) -> dict[str, int]:
    return {port_variable(name): number for name, number in ports.items()}


def _resolved_ports(catalog: Catalog, values: Mapping[str, Any]) -> dict[str, int]:
    ports: dict[str, int] = {}
    holders: dict[int, str] = {}
    for container in catalog.containers():
        for name in container.ports:
            variable = port_variable(name)
            number = _port_number(variable, values.get(variable, container.ports[name]))
            if number in holders:
                raise CatalogVariableError(f"{variable} is {number}, the port of {holders[number]} "
                                    f"too: give the two services different ports")
            holders[number] = variable
            ports[name] = number
    return ports


def _port_number(variable: str, value: Any) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise CatalogVariableError(f"{variable} must be a port number (1-65535), "
                                   f"got {value!r}") from None
    if not 0 < number < 65536:
        raise CatalogVariableError(f"{variable} must be a port number (1-65535), got {number}")
    return number


def _resolve_container(container: Container, ports: Mapping[str, int],
                       context: Mapping[str, Any]) -> Container:
    check = container.healthcheck
    healthcheck: Healthcheck | None = None
    if check is not None:
        healthcheck = replace(check, port=ports[check.port_name], frontend_ports=tuple(
            ports[name] for name in check.frontend_port_names))
    return replace(container, ports={name: ports[name] for name in container.ports},
                   healthcheck=healthcheck,
                   command=render_command(container, context))


_COMMANDS = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def render_command(container: Container, context: Mapping[str, Any]) -> str:
    """The container's command template rendered with the variables it names (only those are
    read, so a lazily templated mapping templates nothing else)."""
    if "{" not in container.command:
        return container.command
    where = f"service {container.service}, container {container.name}: key 'command'"
    try:
        template = _COMMANDS.parse(container.command)
        names = jinja2.meta.find_undeclared_variables(template)
        missing = sorted(name for name in names if name not in context)
        if missing:
            raise CatalogVariableError(f"{where} uses undefined variable(s) {', '.join(missing)}")
        return _COMMANDS.from_string(container.command).render(
            {name: context[name] for name in names})
    except jinja2.TemplateError as exc:
        raise CatalogVariableError(f"{where} does not render: {exc}") from None


# --- what the bootstrap one-shots get -------------------------------------------------------

def database_spec(service: Service, values: Mapping[str, Any]) -> list[dict[str, str]]:
    """The databases (and users) a service needs: [{name, user, password}]."""
    return [{"name": str(values[f"{db}_database_name"]), "user": str(values[f"{db}_database_user"]),
             "password": str(values[f"{db}_database_password"])} for db in service.databases]


def keystone_registration(catalog: Catalog, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every service's keystone user (admin on project service, or with the 2025.1 feature
    keystone_service_role the `service` role instead unless its entry needs_admin) and catalog
    entry, with the endpoints of <service>_public_url and <service>_internal_url."""
    service_role = _truthy(values.get("enable_keystone_service_role"))
    users: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    for name in service_order(catalog):
        keystone = catalog.services[name].keystone
        if keystone is None:
            continue
        users.append({"name": str(values[f"{name}_keystone_user"]),
                      "password": str(values[f"{name}_keystone_password"]),
                      "roles": ["service"] if service_role and not keystone.needs_admin
                      else ["admin"]})
        if keystone.type:
            internal = str(values[f"{name}_internal_url"])
            services.append({"name": name, "type": keystone.type,
                             "description": keystone.description,
                             "endpoints": {"public": str(values[f"{name}_public_url"]),
                                           "internal": internal, "admin": internal}})
    return {"region": str(values["openstack_region_name"]), "users": users, "services": services}


def _truthy(value: Any) -> bool:
    """A switch as YAML or a templating engine hands it over (true, "True", "yes")."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def log_volumes(catalog: Catalog) -> list[str]:
    """Every service's logs volume at its log_dir ("aodh_logs:/var/log/aodh"): what a
    container with log_volumes mounts."""
    return [f"{s.logs_volume}:{s.log_dir}" for s in catalog.services.values() if s.log_dir]
