"""Vars plugin: the defaults the service catalog derives, for group `all`.

Every `<port>_port`, `<db>_database_name`/`_user`, `<service>_keystone_user`,
`enable_<container>`, `logrotate_log_paths`, `telemetry_service_order`, the load balancer's
`<container>_backend_addresses` and the client addresses (`mariadb_address`, ...) come from
src/telemetry/catalog/services.yml through telemetry.catalog.catalog_variables (the same
function telemetry-k8s layers first), so group_vars never copies them. As group `all` variables
they sit below group_vars/, globals.yml (include_vars) and -e: one override changes the value
for every consumer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ansible.errors import AnsibleError
from ansible.inventory.group import Group
from ansible.plugins.vars import BaseVarsPlugin
from ansible.template import trust_as_template

DOCUMENTATION = """
name: telemetry_catalog
short_description: defaults derived from the telemetry service catalog
description: Gives group all the variables telemetry.catalog.catalog_variables derives.
"""


@lru_cache(maxsize=1)
def _catalog_variables() -> dict[str, Any]:
    try:
        from telemetry.catalog import (
            CatalogError,
            backend_containers,
            catalog_variables,
            load_catalog,
        )
    except ImportError as exc:
        raise AnsibleError("the telemetry package is not importable by Ansible's Python on the "
                           "controller: run ansible-playbook from the project's venv "
                           "(.venv/bin)") from exc
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        raise AnsibleError(f"service catalog: {exc}") from None
    values = catalog_variables(catalog)
    # The Ansible engine's backends: every address the container listens on across the hosts
    # of its group (filter_plugins/telemetry.py, from each host's <container>_instances).
    for container in backend_containers(catalog):
        values[f"{container.variable_stem}_backend_addresses"] = (
            "{{ hostvars | telemetry_instance_addresses(groups['" + container.group + "'], '"
            + container.name + "') }}")
    values.update(_client_addresses(catalog))
    return _trusted(values)


def _client_addresses(catalog: Any) -> dict[str, str]:
    """Where clients reach each service with a `reached_at`: its group's first host
    (<service>_address) or all of them (<service>_addresses), by api_interface_address."""
    values = {}
    for service in catalog.services.values():
        if service.reached_at is None:
            continue
        container = next(iter(service.containers))
        addresses = ("hostvars | telemetry_instance_addresses(groups['" + service.group
                     + "'] | default([]), '" + container + "')")
        if service.reached_at == "first":
            values[f"{service.name}_address"] = "{{ (" + addresses + ") | first }}"
        else:
            values[f"{service.name}_addresses"] = "{{ " + addresses + " }}"
    return values


def _trusted(value: Any) -> Any:
    """Derived values refer to other variables ("{{ gnocchi_lb_port }}"): Ansible templates
    only strings it trusts, and these come from the project's own catalog code."""
    if isinstance(value, str) and "{{" in value:
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


class VarsModule(BaseVarsPlugin):
    REQUIRES_ENABLED = False

    def get_vars(self, loader, path, entities, cache=True):
        super().get_vars(loader, path, entities)
        for entity in entities if isinstance(entities, list) else [entities]:
            if isinstance(entity, Group) and entity.name == "all":
                return dict(_catalog_variables())
        return {}
