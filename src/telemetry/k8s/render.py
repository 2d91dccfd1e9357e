"""Render registry resources from the templates under services/ into manifests.

Each resource template gets every variable (top level, and as ``variables`` for lookups by
composed name), the registry entry as ``resource``, and, for a resource bound to a catalog
container, that container's configs and pod pieces (see :mod:`telemetry.k8s.pods`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from telemetry.catalog import Catalog
from telemetry.deploy.overrides import OverrideError
from telemetry.k8s import pods
from telemetry.k8s.configs import ConfigRenderer, ContainerConfig, check_no_secrets
from telemetry.k8s.registry import Registry, Resource
from telemetry.k8s.variables import Variables
from telemetry.templating import TemplateError, make_environment, render

# Where the services write logs when log_to_file is set (the config templates' log_dir).
_LOG_DIRS = {"mariadb": "mysql", "loadbalancer": "nginx"}
_UNDEFINED = re.compile(r"'(\w+)' is undefined")


class RenderError(RuntimeError):
    """A resource failed to render or produced an invalid manifest; the message names the
    resource, the template and, for a missing variable, the variable."""


@dataclass(frozen=True)
class Rendered:
    resource: Resource
    text: str
    documents: list[dict[str, Any]] = field(default_factory=list)


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=False)


def _b64encode(value: Any) -> str:
    return base64.b64encode(str(value).encode()).decode()


def _sha256(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def resource_environment(root: Path) -> jinja2.Environment:
    env = make_environment([root])
    # Filters the resource templates need beyond Jinja's own (the sandbox allows registering).
    env.filters.update({"to_yaml": _to_yaml, "b64encode": _b64encode, "sha256": _sha256})
    return env


class ResourceRenderer:
    def __init__(self, root: Path, catalog: Catalog, registry: Registry, variables: Variables,
                 namespace: str, overrides_dir: Path | None = None) -> None:
        self.root = root
        self.catalog = catalog
        self.registry = registry
        self.variables = variables
        self.namespace = namespace
        self.env = resource_environment(root)
        self.configs = ConfigRenderer(root / "ansible" / "roles", variables, overrides_dir)
        self.endpoints = pods.endpoints(catalog, registry, variables.values)
        self._container_configs: dict[str, ContainerConfig] = {}
        self._secrets = variables.password_values()

    def render_all(self, resources: Iterable[Resource]) -> list[Rendered]:
        return [self.render(resource) for resource in resources]

    def render(self, resource: Resource) -> Rendered:
        context = self._context(resource)
        if context is None:
            return Rendered(resource=resource, text="")
        try:
            text = render(self.env, resource.template, context)
        except TemplateError as exc:
            raise RenderError(self._explain(resource, str(exc))) from exc
        documents = self._documents(resource, text)
        return Rendered(resource=resource, text=text, documents=documents)

    def container_config(self, name: str) -> ContainerConfig:
        if name not in self._container_configs:
            container = pods.find_container(self.catalog, name)
            try:
                self._container_configs[name] = self.configs.container(container)
            except TemplateError as exc:
                raise RenderError(f"config of container {name}: {self._hint(str(exc))}") from exc
            except OverrideError as exc:
                raise RenderError(f"config of container {name}: {exc}") from exc
        return self._container_configs[name]

    # --- context -----------------------------------------------------------------------------

    def _context(self, resource: Resource) -> dict[str, Any] | None:
        values = self.variables.values
        context: dict[str, Any] = {
            **values, "variables": values, "namespace": self.namespace,
            "resource": {"name": resource.name, "service": resource.service,
                         "type": resource.type, "vars": resource.vars},
            "labels": pods.labels(resource.service, resource.name),
            "selector": pods.selector(resource.service, resource.name),
            "toolbox_image": pods.image_reference(values, "toolbox"),
            "config_hash_annotation": pods.CONFIG_HASH_ANNOTATION,
            "service_node_selector": values["k8s_node_selectors"].get(
                self.catalog.services[resource.service].group, {}),
        }
        if "wait_for" in resource.vars:
            targets = pods.dependency_targets(resource.vars["wait_for"], self.endpoints)
            context["init_containers"] = pods.wait_containers(targets, values)
        if "volume" in resource.vars:
            claim = values["k8s_persistent_volumes"].get(resource.vars["volume"])
            if claim is None:
                return None  # not persistent: the pods use an emptyDir instead
            context["claim"] = {"name": pods.pvc_name(resource.service, resource.vars["volume"]),
                                "size": claim["size"],
                                "storage_class": values["k8s_storage_class"],
                                "access_modes": values["k8s_volume_access_modes"]}
        if resource.template.endswith("configmap-logging.yml.j2"):
            log_dir = _LOG_DIRS.get(resource.service, resource.service)
            context["logrotate"] = self.configs.render_file(
                "cron", "logrotate.conf.j2",
                {"logrotate_log_paths": [f"/var/log/{log_dir}/*.log"]})
        if "container" in resource.vars:
            container = pods.find_container(self.catalog, resource.vars["container"])
            if not pods.container_enabled(values, container):
                return None
            context.update(self._container_context(resource, container))
        return context

    def _container_context(self, resource: Resource, container: Any) -> dict[str, Any]:
        values = self.variables.values
        config = self.container_config(container.name)
        config_name = self._config_name(container.name)
        plan = pods.volumes(container, config_name, bool(config.secret), values,
                            logging_name=self._logging_name(container.service),
                            log_dir=_LOG_DIRS.get(container.service, container.service))
        service = self.catalog.services[container.service]
        targets = pods.dependency_targets(service.depends_on, self.endpoints)
        host_network = container.network == "host"
        pod = {
            "image": pods.image_reference(values, container.image),
            "image_pull_policy": values["k8s_image_pull_policy"],
            "image_pull_secrets": [{"name": n} for n in values["k8s_image_pull_secrets"]],
            "env": pods.environment(container),
            "ports": pods.ports(container),
            "probes": pods.probes(container, values),
            "volumes": plan.volumes,
            "mounts": plan.mounts,
            # A pod holding a ReadWriteOnce claim must stop before its successor starts.
            "strategy": "Recreate" if plan.persistent else "RollingUpdate",
            "init_containers": pods.wait_containers(targets, values),
            "node_selector": values["k8s_node_selectors"].get(container.group, {}),
            "host_network": host_network,
            "replicas": values["k8s_replicas"].get(container.name, 1),
            "config_hash": config.config_hash,
        }
        return {"container": container, "config": config, "pod": pod,
                "config_name": config_name}

    def _logging_name(self, service: str) -> str | None:
        for resource in self.registry.resources:
            if resource.service == service and resource.template.endswith(
                    "configmap-logging.yml.j2"):
                return resource.name
        return None

    def _config_name(self, container: str) -> str:
        """The ConfigMap/Secret of a container: the registry's configmap entry for it."""
        for resource in self.registry.resources:
            if resource.type == "configmap" and resource.vars.get("container") == container:
                return resource.name
        raise RenderError(f"the registry has no configmap entry for container {container}")

    # --- checks ------------------------------------------------------------------------------

    def _documents(self, resource: Resource, text: str) -> list[dict[str, Any]]:
        try:
            documents = [d for d in yaml.safe_load_all(text) if d]
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise RenderError(f"{resource.label}: {resource.template} rendered invalid "
                              f"YAML{where}") from None
        for document in documents:
            if not isinstance(document, dict) or "kind" not in document:
                raise RenderError(f"{resource.label}: {resource.template} rendered a document "
                                  "without a kind")
            namespace = document.get("metadata", {}).get("namespace")
            if namespace != self.namespace:
                raise RenderError(f"{resource.label}: {resource.template} puts "
                                  f"{document['kind']} in namespace {namespace!r}, "
                                  f"not {self.namespace!r}")
            if document["kind"] == "ConfigMap":
                check_no_secrets(resource.name, document.get("data") or {}, self._secrets)
        return documents

    def _explain(self, resource: Resource, message: str) -> str:
        return f"{resource.label}: {self._hint(message)}"

    def _hint(self, message: str) -> str:
        match = _UNDEFINED.search(message)
        if match and match.group(1) in self.variables.unresolved:
            name = match.group(1)
            return (f"{message} (variable {name} could not be resolved for Kubernetes: "
                    f"{self.variables.unresolved[name]}; set it in a --globals file)")
        if match:
            return f"{message} (missing variable {match.group(1)}: set it in a --globals file)"
        return message


def by_kind(rendered: Iterable[Rendered]) -> Mapping[str, list[dict[str, Any]]]:
    kinds: dict[str, list[dict[str, Any]]] = {}
    for item in rendered:
        for document in item.documents:
            kinds.setdefault(document["kind"], []).append(document)
    return kinds
