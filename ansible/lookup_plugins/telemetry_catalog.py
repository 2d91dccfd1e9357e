"""Lookup plugin: the service catalog, as plain dicts, for the roles.

    "{{ lookup('telemetry_catalog') }}"                      -> {"services": {...}, "users": {...}}
    "{{ lookup('telemetry_catalog', 'gnocchi') }}"           -> the gnocchi service

It reads the same file through the same validating loader as telemetry-build and telemetry-k8s,
so a catalog error stops the play with the loader's message naming the service and field.
"""

from __future__ import annotations

import dataclasses

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

DOCUMENTATION = """
name: telemetry_catalog
short_description: the telemetry service catalog
description: Returns the whole catalog, or the named services, as dictionaries.
options:
  _terms:
    description: service names (none for the whole catalog)
    required: false
"""


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        try:
            from telemetry.catalog import CatalogError, load_catalog
        except ImportError as exc:
            raise AnsibleError("the telemetry package is not importable by Ansible's Python: run "
                               "ansible-playbook from the project's venv (.venv/bin)") from exc
        try:
            catalog = dataclasses.asdict(load_catalog())
        except CatalogError as exc:
            raise AnsibleError(f"service catalog: {exc}") from exc
        if not terms:
            return [catalog]
        unknown = [t for t in terms if t not in catalog["services"]]
        if unknown:
            raise AnsibleError(f"unknown services {unknown}; known: "
                               f"{', '.join(sorted(catalog['services']))}")
        return [catalog["services"][term] for term in terms]
