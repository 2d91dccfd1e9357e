"""Render registry resources from the templates under services/ into manifests.

Each resource template gets every variable (top level, and as ``variables`` for lookups by
composed name), the registry entry as ``resource``, and what the entry is for: a catalog
container's configs and pod pieces (see :mod:`telemetry.k8s.pods`), a claim, a toolbox Job's
spec, a Service's name and type. Every catalog fact comes from the catalog resolved once against
the variables (ports, healthchecks, commands), so an override such as ``gnocchi_api_port``
reaches the containerPort, the probes, the Service, the waits and the configs alike.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from telemetry.catalog import Catalog, Container, container_enabled, resolve
from telemetry.common.errors import BadInput
from telemetry.common.overrides import OverrideError
from telemetry.k8s import pods
from telemetry.k8s.configs import ConfigRenderer, ContainerConfig, check_no_secrets
from telemetry.k8s.registry import Registry, Resource
from telemetry.k8s.specs import JobSpec, job_spec
from telemetry.k8s.variables import Variables, VariablesError, evaluate
from telemetry.templating import TemplateError, make_environment, render

ENGINE = "KUBERNETES"
_UNDEFINED = re.compile(r"'(\w+)' is undefined")


class RenderError(BadInput):
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
                 namespace: str, overrides_dir: Path | None = None,
                 roles_dirs: Sequence[Path] = ()) -> None:
        self.root = root
        # The one resolution of the catalog against the variables (0.0.0.0 listeners).
        self.catalog = resolve(catalog, variables.values, ENGINE)
        self.registry = registry
        self.variables = variables
        self.namespace = namespace
        self.env = resource_environment(root)
        self.configs = ConfigRenderer(roles_dirs or (root / "ansible" / "roles",), variables,
                                      overrides_dir)
        self.endpoints = pods.endpoints(self.catalog, registry, variables.values)
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
        """Everything a resource's template is rendered with; None: it renders nothing (its
        container, or every container of its service, is switched off)."""
        if not self._service_enabled(resource.service):
            return None
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
        if "volume" in resource.vars:
            context["claim"] = self._claim(resource)
        if "log_dir" in resource.vars:
            context["logrotate"] = self._logrotate(resource)
        if "task" in resource.vars:
            context["spec"] = spec = self._spec(resource)
            # A toolbox Job waits for the Services its spec reaches (the database server,
            # keystone, its own API for an after-pods Job) among those it may wait for.
            targets = [t for t in pods.dependency_targets(resource.vars.get("wait_for", ()),
                                                          self.endpoints)
                       if t.host in spec.hosts]
            context["init_containers"] = pods.wait_containers(targets, values)
        if resource.type == "svc":
            context.update(self._service(resource))
        if "container" in resource.vars:
            container = pods.find_container(self.catalog, resource.vars["container"])
            if not container_enabled(values, container):
                return None
            context.update(self._container_context(container))
        return context

    def _service_enabled(self, service: str) -> bool:
        containers = self.catalog.services[service].containers.values()
        return any(container_enabled(self.variables.values, c) for c in containers)

    def _claim(self, resource: Resource) -> dict[str, Any]:
        values = self.variables.values
        claim = values["k8s_persistent_volumes"][resource.vars["volume"]]
        return {"name": resource.name, "size": claim["size"],
                "storage_class": values["k8s_storage_class"],
                "access_modes": values["k8s_volume_access_modes"]}

    def _logrotate(self, resource: Resource) -> str:
        """The log-rotating container's rule (its first config file) for this service's
        log_dir: the same template the Ansible engine's cron container renders."""
        rotator = pods.find_container(self.catalog, resource.vars["rotator"])
        template = f"{rotator.config_files[0].src}.j2"
        try:
            return self.configs.render_file(rotator.service, template, {
                "logrotate_log_paths": [f"{resource.vars['log_dir']}/*.log"]})
        except TemplateError as exc:
            raise RenderError(self._explain(resource, str(exc))) from exc

    def _spec(self, resource: Resource) -> JobSpec:
        try:
            return job_spec(resource, self.catalog, self.variables.values)
        except KeyError as exc:
            raise RenderError(self._explain(resource, f"'{exc.args[0]}' is undefined")) from None
        except VariablesError as exc:
            raise RenderError(f"{resource.label}: spec: {exc}") from None

    def _service(self, resource: Resource) -> dict[str, Any]:
        values = self.variables.values
        kind = resource.vars.get("service_type", "ClusterIP")
        try:
            kind = evaluate(kind, values)
        except VariablesError as exc:
            raise RenderError(f"{resource.label}: service_type: {exc}") from None
        return {"service_name": pods.service_name(resource, values), "service_type": kind}

    def _container_context(self, container: Container) -> dict[str, Any]:
        values = self.variables.values
        config = self.container_config(container.name)
        config_name = self.registry.config_name(container.name)
        if config_name is None:
            raise RenderError(f"the registry has no configmap entry for container "
                              f"{container.name}")
        service = self.catalog.services[container.service]
        plan = pods.volumes(container, config_name, bool(config.secret), values,
                            logging_name=self.registry.logging_name(container.service),
                            log_dir=service.log_dir)
        targets = pods.dependency_targets(service.depends_on, self.endpoints)
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
            "host_network": container.network == "host",
            "replicas": values["k8s_replicas"].get(container.name, 1),
            "config_hash": config.config_hash,
        }
        return {"container": container, "config": config, "pod": pod,
                "config_name": config_name}

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
