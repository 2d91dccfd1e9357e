"""Vars plugin: the defaults the service catalog derives, for group `all`.

Every `<port>_port`, `<db>_database_name`/`_user`, `<service>_keystone_user`,
`enable_<container>`, `logrotate_log_paths` and `telemetry_service_order` comes from
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

DOCUMENTATION = """
name: telemetry_catalog
short_description: defaults derived from the telemetry service catalog
description: Gives group all the variables telemetry.catalog.catalog_variables derives.
"""


@lru_cache(maxsize=1)
def _catalog_variables() -> dict[str, Any]:
    try:
        from telemetry.catalog import CatalogError, catalog_variables, load_catalog
    except ImportError as exc:
        raise AnsibleError("the telemetry package is not importable by Ansible's Python on the "
                           "controller: run ansible-playbook from the project's venv "
                           "(.venv/bin)") from exc
    try:
        return catalog_variables(load_catalog())
    except CatalogError as exc:
        raise AnsibleError(f"service catalog: {exc}") from None


class VarsModule(BaseVarsPlugin):
    REQUIRES_ENABLED = False

    def get_vars(self, loader, path, entities, cache=True):
        super().get_vars(loader, path, entities)
        for entity in entities if isinstance(entities, list) else [entities]:
            if isinstance(entity, Group) and entity.name == "all":
                return dict(_catalog_variables())
        return {}
