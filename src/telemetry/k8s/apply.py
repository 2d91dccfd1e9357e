"""Talking to a cluster through the `kubernetes` Python client (never kubectl).

create is server-side apply (PATCH, application/apply-patch+yaml, fieldManager telemetry-k8s,
force) to the namespace written in each manifest: ``utils.create_from_yaml(apply=True)`` would
drop it. A Job's pod template is immutable, so a Job whose config-hash annotation changed is
deleted and applied again, and one with the same hash is left alone (it ran, or runs, with
these very inputs); that is what makes rerunning create safe and cheap.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from telemetry.common.errors import ActionFailed, Unavailable
from telemetry.k8s.pods import CONFIG_HASH_ANNOTATION

FIELD_MANAGER = "telemetry-k8s"
DRY_RUN_MODES = ("none", "client", "server")


class ClusterUnavailable(Unavailable):
    """No kubeconfig, or the API server cannot be reached; the message says what to do."""


class ApplyError(ActionFailed):
    """The API server refused a request; the message names the resource and the reason."""


@dataclass(frozen=True)
class Outcome:
    kind: str
    name: str
    action: str  # applied, unchanged, recreated, deleted, absent, kept
    detail: str = ""

    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.kind.lower()}/{self.name}: {self.action}{detail}"


def kubeconfig_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(env or "~/.kube/config").expanduser()


def connect(kubeconfig: str | None, context: str | None = None) -> Any:
    """A DynamicClient for the kubeconfig (or the pod's service account inside a cluster)."""
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.dynamic import DynamicClient

    path = kubeconfig_path(kubeconfig)
    try:
        if not path.is_file() and not kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
            k8s_config.load_incluster_config()
            api_client = k8s_client.ApiClient()
        elif not path.is_file():
            raise ClusterUnavailable(
                f"no kubeconfig at {path}: pass --kubeconfig FILE or set KUBECONFIG to the "
                "cluster's kubeconfig (the file kubectl uses). `template` and `validate` need "
                "no cluster.")
        else:
            api_client = k8s_config.new_client_from_config(config_file=str(path),
                                                           context=context,
                                                           persist_config=False)
    except k8s_config.ConfigException as exc:
        raise ClusterUnavailable(f"kubeconfig {path} cannot be used: {exc}") from exc
    except yaml.YAMLError:
        # No parser text: it would quote the file, and a kubeconfig holds credentials.
        raise ClusterUnavailable(f"kubeconfig {path} is not valid YAML: fix it or pass "
                                 "--kubeconfig FILE") from None
    # No discovery cache between runs (a shared one goes stale when the cluster is upgraded):
    # the client wants a file, so it gets one that is gone after discovery; its later writes
    # to it fail silently by design.
    with tempfile.TemporaryDirectory(prefix="telemetry-k8s-") as cache_dir:
        try:
            dynamic = DynamicClient(api_client, cache_file=str(Path(cache_dir) / "discovery"))
        except Exception as exc:  # urllib3, ApiException: all mean the same to the user
            raise ClusterUnavailable(f"cannot reach the Kubernetes API at "
                                     f"{api_client.configuration.host}: {_reason(exc)}") from exc
    return dynamic


def _reason(exc: BaseException) -> str:
    """Status, reason and the API server's message of a failed request."""
    status = getattr(exc, "status", None)
    lines = str(exc).splitlines()
    reason = getattr(exc, "reason", None) or (lines[0] if lines else type(exc).__name__)
    message = ""
    body = getattr(exc, "body", None)
    if body:
        try:
            message = json.loads(body).get("message", "")
        except (ValueError, AttributeError, TypeError):
            message = ""
    return " ".join(str(part) for part in (status, reason, message) if part)


class Cluster:
    """Apply, delete and read manifests in one namespace."""

    def __init__(self, client: Any, namespace: str, dry_run: str = "none",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if dry_run not in ("none", "server"):
            raise ValueError("a Cluster is for dry_run none or server (client never connects)")
        self.client = client
        self.namespace = namespace
        self.server_dry_run = dry_run == "server"
        self.sleep = sleep

    def _resource(self, document: Mapping[str, Any]) -> Any:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError
        try:
            return self.client.resources.get(api_version=document["apiVersion"],
                                             kind=document["kind"])
        except ResourceNotFoundError as exc:
            raise ApplyError(f"the cluster does not serve {document['kind']} "
                             f"{document['apiVersion']}") from exc

    def _call(self, what: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import DynamicApiError
        if self.server_dry_run:
            kwargs["dry_run"] = "All"
        try:
            return function(**kwargs)
        except (ApiException, DynamicApiError) as exc:
            raise ApplyError(f"{what}: {_reason(exc)}") from exc

    def get(self, document: Mapping[str, Any]) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError
        resource = self._resource(document)
        name = document["metadata"]["name"]
        try:
            found = resource.get(name=name, namespace=self._namespace(resource, document))
        except NotFoundError:
            return None
        except (ApiException, DynamicApiError) as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise ApplyError(f"read {document['kind']}/{name}: {_reason(exc)}") from exc
        return found.to_dict()

    def _namespace(self, resource: Any, document: Mapping[str, Any] | None = None) -> str | None:
        """The manifest's own namespace (what utils.create_from_yaml(apply=True) ignores), else
        the one asked for; None for cluster-scoped kinds."""
        if not resource.namespaced:
            return None
        return (document or {}).get("metadata", {}).get("namespace") or self.namespace

    def ensure_namespace(self) -> Outcome:
        document = {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": self.namespace,
                                 "labels": {"app.kubernetes.io/part-of": "telemetry"}}}
        resource = self._resource(document)
        self._call(f"apply Namespace/{self.namespace}", resource.server_side_apply,
                   body=document, name=self.namespace, field_manager=FIELD_MANAGER,
                   force_conflicts=True)
        return Outcome("Namespace", self.namespace, "applied")

    def apply(self, document: Mapping[str, Any]) -> Outcome:
        kind, name = document["kind"], document["metadata"]["name"]
        resource = self._resource(document)
        action = "applied"
        if kind == "Job":
            existing = self.get(document)
            if existing is not None:
                if _job_hash(existing) == _job_hash(document):
                    return Outcome(kind, name, "unchanged", "same inputs: not rerun")
                if self.server_dry_run:
                    return Outcome(kind, name, "recreated", "dry run: inputs changed")
                self.delete(document, wait=True)
                action = "recreated"
        self._call(f"apply {kind}/{name}", resource.server_side_apply, body=dict(document),
                   name=name, namespace=self._namespace(resource, document),
                   field_manager=FIELD_MANAGER, force_conflicts=True)
        return Outcome(kind, name, action, "dry run" if self.server_dry_run else "")

    def delete(self, document: Mapping[str, Any], wait: bool = False,
               timeout: float = 120.0) -> Outcome:
        from kubernetes.dynamic.exceptions import NotFoundError
        kind, name = document["kind"], document["metadata"]["name"]
        resource = self._resource(document)
        try:
            # Background: a Job's or Deployment's pods go with it.
            self._call(f"delete {kind}/{name}", resource.delete, name=name,
                       namespace=self._namespace(resource, document),
                       propagation_policy="Background")
        except ApplyError as exc:
            if isinstance(exc.__cause__, NotFoundError) or "404" in str(exc):
                return Outcome(kind, name, "absent")
            raise
        if wait and not self.server_dry_run:
            deadline = time.monotonic() + timeout
            while self.get(document) is not None:
                if time.monotonic() > deadline:
                    raise ApplyError(f"{kind}/{name} still exists {timeout:g}s after delete")
                self.sleep(1.0)
        return Outcome(kind, name, "deleted", "dry run" if self.server_dry_run else "")


def _job_hash(document: Mapping[str, Any]) -> str | None:
    return (document.get("metadata", {}).get("annotations") or {}).get(CONFIG_HASH_ANNOTATION)
