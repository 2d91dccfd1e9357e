"""A container's config files rendered from the Ansible templates for the KUBERNETES engine,
split between its ConfigMap and its Secret, plus the config.json that telemetry_start reads.

A file goes to the Secret when its template uses any key of passwords.yml (decided from the
template's source, so it never depends on the values), or when an operator override (Kolla's
<configdir>/config/ layout, merged as on the Ansible side) changed it: what an operator writes
there may be secret too. Everything else, config.json included, goes to the ConfigMap.
:func:`check_no_secrets` is the safety net behind that rule.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.meta

from telemetry.catalog import Container
from telemetry.common.contract import config_entry
from telemetry.common.errors import BadInput
from telemetry.common.overrides import Scope, merge
from telemetry.k8s.variables import Variables
from telemetry.templating import make_environment, render

# Secret files are mounted beside the ConfigMap, not inside it: a mount nested in a read-only
# ConfigMap volume needs a mount point the kubelet cannot create there.
SECRETS_MOUNT = "/var/lib/telemetry/config_secrets"
CONFIG_JSON = "config.json"


class SecretInConfigMap(BadInput):
    """A rendered ConfigMap holds a password value: it must not be applied."""


@dataclass(frozen=True)
class ContainerConfig:
    container: str
    configmap: dict[str, str]
    secret: dict[str, str]

    @property
    def config_hash(self) -> str:
        """sha256 of everything the pod mounts from both, so any change rolls the pods."""
        return config_hash(self.configmap, self.secret)


def config_hash(*parts: Mapping[str, str]) -> str:
    blob = json.dumps(list(parts), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


class ConfigRenderer:
    """Renders config templates once per (service, file): four aodh containers share aodh.conf."""

    def __init__(self, roles_dirs: Sequence[Path], variables: Variables,
                 overrides_dir: Path | None = None) -> None:
        # Searched in order for <service>/templates: the Ansible roles, or first a directory of
        # templates for services the roles do not have (a catalog copy's new service).
        self.roles_dirs = tuple(roles_dirs)
        self.overrides_dir = overrides_dir
        self.variables = variables
        self._rendered: dict[tuple[str, str], str] = {}
        self._password_keys = frozenset(variables.password_keys)

    def template_dir(self, service: str) -> Path:
        candidates = [d / service / "templates" for d in self.roles_dirs]
        return next((c for c in candidates if c.is_dir()), candidates[0])

    def render_file(self, service: str, template: str,
                    overrides: Mapping[str, object] | None = None) -> str:
        key = (service, template)
        if overrides or key not in self._rendered:
            text = render(_environment(self.template_dir(service)), template,
                          {**self.variables.values, **(overrides or {})})
            if overrides:
                return text
            self._rendered[key] = text
        return self._rendered[key]

    def uses_password(self, service: str, template: str) -> bool:
        return bool(_referenced(self.template_dir(service), template) & self._password_keys)

    def container(self, container: Container) -> ContainerConfig:
        configmap: dict[str, str] = {}
        secret: dict[str, str] = {}
        entries = []
        for config_file in container.config_files:
            template = f"{config_file.src}.j2"
            text = self.render_file(container.service, template)
            overridden = False
            if self.overrides_dir is not None:
                # No host scope: a pod is not tied to a host (config/<service>/<host>/ is the
                # Ansible side's alone).
                merged = merge(config_file.src, text, self.overrides_dir,
                               Scope(container.service, container.name, host=""))
                text, overridden = merged.content, bool(merged.applied)
            entry = config_entry({"src": config_file.src, "dest": config_file.dest,
                                  "owner": config_file.owner, "perm": config_file.perm})
            if overridden or self.uses_password(container.service, template):
                secret[config_file.src] = text
                entry["source"] = f"{SECRETS_MOUNT}/{config_file.src}"
            else:
                configmap[config_file.src] = text
            entries.append(entry)
        config = {"command": container.command, "user": container.user, "config_files": entries}
        if container.bootstrap:
            config["bootstrap_command"] = container.bootstrap
        # The Ansible role writes the same document (to_nice_json): one layout for both engines.
        configmap[CONFIG_JSON] = json.dumps(config, indent=4, sort_keys=True) + "\n"
        return ContainerConfig(container=container.name, configmap=configmap, secret=secret)


def check_no_secrets(name: str, data: Mapping[str, str], secrets: set[str]) -> None:
    for key, text in data.items():
        if any(secret and secret in text for secret in secrets):
            raise SecretInConfigMap(f"ConfigMap {name}: {key} contains a password value; "
                                    "its template must be rendered into a Secret")


@functools.cache
def _environment(directory: Path) -> jinja2.Environment:
    return make_environment([directory])


@functools.cache
def _referenced(directory: Path, template: str) -> frozenset[str]:
    env = _environment(directory)
    source = (directory / template).read_text()
    return frozenset(jinja2.meta.find_undeclared_variables(env.parse(source)))
