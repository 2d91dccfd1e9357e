"""Lookup plugin: the service catalog for the roles, resolved against this host's variables.

    lookup('telemetry_catalog')                          the whole catalog (plain dicts)
    lookup('telemetry_catalog', 'gnocchi')               the gnocchi service as written
    lookup('telemetry_catalog', 'gnocchi', kind='containers')
        the containers this host runs: enabled (enable_<container>), placed on this host (the
        container's group), one entry per instance (<container>_instances), with ports,
        healthcheck and command resolved from the variables (gnocchi_api_port...), and for a
        load balancer's backend the balancer in front of it (balanced_by)
    lookup('telemetry_catalog', 'gnocchi', kind='databases')   [{name, user, password}]
    lookup('telemetry_catalog', kind='keystone')         the keystone registration spec
    lookup('telemetry_catalog', kind='volumes')          the named volumes of every container

The logic is telemetry.catalog's (shared with telemetry-k8s); this plugin only hands it the
variables. A catalog error stops the play with the loader's message naming entry and key.
"""

from __future__ import annotations

import dataclasses
from collections import ChainMap
from collections.abc import Iterator, Mapping
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

DOCUMENTATION = """
name: telemetry_catalog
short_description: the telemetry service catalog
description: Returns the catalog, a service, or what this host derives from it.
options:
  _terms:
    description: service names (none for the whole catalog)
    required: false
  kind:
    description: raw (as written), containers, databases, keystone or volumes
    default: raw
"""
KINDS = ("raw", "containers", "databases", "keystone", "volumes")

try:
    import telemetry.catalog as catalog_lib
    from telemetry.deploy.instances import host_instance_addresses
    from telemetry.deploy.stack import catalog_volumes
except ImportError as exc:  # reported when the lookup runs, with what to do
    catalog_lib = None
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


class _Variables(Mapping):
    """The task's variables, templated when read (only what the catalog code asks for)."""

    def __init__(self, templar: Any, variables: Mapping[str, Any]) -> None:
        self._templar = templar
        self._variables = variables

    def __getitem__(self, key: str) -> Any:
        if key not in self._variables:
            raise KeyError(key)
        return self._templar.template(self._variables[key])

    def __contains__(self, key: object) -> bool:
        # Mapping's default would template the value only to learn that it exists.
        return key in self._variables

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        kind = self.get_option("kind")
        if kind not in KINDS:
            raise AnsibleError(f"telemetry_catalog: kind must be one of {', '.join(KINDS)}")
        if catalog_lib is None:
            raise AnsibleError("the telemetry package is not importable by Ansible's Python on "
                               "the controller: run ansible-playbook from the project's venv "
                               f"(.venv/bin): {IMPORT_ERROR}")
        try:
            catalog = catalog_lib.load_catalog()
            unknown = [t for t in terms if t not in catalog.services]
            if unknown:
                raise AnsibleError(f"unknown services {unknown}; known: "
                                   f"{', '.join(catalog.services)}")
            values = _Variables(self._templar, variables or {})
            if kind == "volumes":
                return [catalog_volumes(catalog)]
            if kind == "keystone":
                return [catalog_lib.keystone_registration(catalog, values)]
            if kind == "databases":
                return [catalog_lib.database_spec(catalog.services[t], values) for t in terms]
            if kind == "containers":
                return [_host_containers(catalog, t, values) for t in terms]
        except catalog_lib.CatalogError as exc:
            raise AnsibleError(f"service catalog: {exc}") from None
        except catalog_lib.CatalogVariableError as exc:
            raise AnsibleError(str(exc)) from None
        except KeyError as exc:
            raise AnsibleError(f"variable {exc.args[0]} is not set: the catalog needs it "
                               "(passwords.yml, globals.yml or group_vars)") from None
        raw = dataclasses.asdict(catalog)
        if not terms:
            return [raw]
        return [raw["services"][term] for term in terms]


def _host_containers(catalog: Any, service: str,
                     values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per instance of every enabled container of the service placed on this host:
    the first instance keeps the catalog name, the next get -2, -3, ... and listen on their
    own address."""
    host = values["inventory_hostname"]
    groups = values["groups"]
    expanded: list[dict[str, Any]] = []
    for container in catalog.services[service].containers.values():
        on_host = container.group == "all" or host in groups.get(container.group, [])
        if not (on_host and catalog_lib.container_enabled(values, container)):
            continue
        addresses = host_instance_addresses(values, container.name)
        for index, address in enumerate(addresses, start=1):
            resolved = catalog_lib.resolve(
                catalog, ChainMap({"api_interface_address": address}, values))
            entry = dataclasses.asdict(resolved.services[service].containers[container.name])
            if container.log_volumes:
                entry["volumes"] = [*entry["volumes"], *catalog_lib.log_volumes(catalog)]
            expanded.append({**entry, "name": container.name if index == 1
                             else f"{container.name}-{index}",
                             "listen_address": address, "first_instance": index == 1,
                             "balanced_by": _balanced_by(catalog, container.name, address,
                                                         entry["ports"])})
    return expanded


def _balanced_by(catalog: Any, name: str, address: str,
                 ports: Mapping[str, Any]) -> dict[str, str] | None:
    """The load balancer in front of this instance, and the server it knows it as (its first
    port, as nginx.conf.j2 balances it): what a restart drains (telemetry_lb_backend)."""
    balancer = catalog_lib.balancer_of(catalog, name)
    if balancer is None:
        return None
    config = balancer.config_files[0]
    return {"container": balancer.name, "group": balancer.group, "config_src": config.src,
            "config_dest": config.dest, "server": f"{address}:{next(iter(ports.values()))}"}
