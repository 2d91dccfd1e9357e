"""RecordingApiServer: a recorded Kubernetes API contract, NOT a cluster.

A small local HTTP server that answers discovery (/version, /api, /apis, /api/v1,
/apis/apps/v1, /apis/batch/v1) with the resource lists a real API server returns, keeps applied
objects in memory and records every request (method, path, query, content type, body), so unit
tests can assert what telemetry-k8s sends: server-side apply PATCHes with the field manager,
the namespace of each manifest, dry-run, deletes and reads. It schedules nothing and runs
nothing: workload status is made up (Jobs complete, rollouts finish) unless a test says
otherwise. Passing these tests says the client speaks the API as documented, not that the
stack runs on Kubernetes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml


def _resource(name: str, kind: str, namespaced: bool = True) -> dict[str, Any]:
    return {"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                      "watch"]}


# What a v1.31 API server lists for the groups telemetry-k8s uses (trimmed to these kinds,
# plus a status subresource as real lists carry them).
RESOURCE_LISTS: dict[str, list[dict[str, Any]]] = {
    "/api/v1": [_resource("namespaces", "Namespace", namespaced=False),
                _resource("configmaps", "ConfigMap"), _resource("secrets", "Secret"),
                _resource("services", "Service"),
                _resource("persistentvolumeclaims", "PersistentVolumeClaim"),
                _resource("pods", "Pod"),
                {"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
                 "verbs": ["get", "patch", "update"]}],
    "/apis/apps/v1": [_resource("deployments", "Deployment"),
                      _resource("daemonsets", "DaemonSet"),
                      _resource("statefulsets", "StatefulSet"),
                      {"name": "deployments/status", "singularName": "", "namespaced": True,
                       "kind": "Deployment", "verbs": ["get", "patch", "update"]}],
    "/apis/batch/v1": [_resource("jobs", "Job"), _resource("cronjobs", "CronJob")],
}
GROUPS = [{"name": name, "versions": [{"groupVersion": f"{name}/v1", "version": "v1"}],
           "preferredVersion": {"groupVersion": f"{name}/v1", "version": "v1"}}
          for name in ("apps", "batch")]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: Any

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class RecordingApiServer:
    """Start with `with RecordingApiServer() as api:`; `api.kubeconfig(tmp_path)` points a
    kubeconfig at it."""

    # Workload status handed back on reads: ready (Jobs complete, rollouts done), or stuck.
    workloads_ready: bool = True
    requests: list[Request] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __enter__(self) -> RecordingApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, payload = server.answer(self.command, self.path,
                                                self.headers.get("Content-Type", ""), raw)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, directory: Path) -> Path:
        path = directory / "kubeconfig"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "contract",
            "clusters": [{"name": "contract", "cluster": {"server": self.url}}],
            "users": [{"name": "contract", "user": {"token": "contract-token"}}],
            "contexts": [{"name": "contract",
                          "context": {"cluster": "contract", "user": "contract"}}]}))
        return path

    def api_requests(self) -> list[Request]:
        """Requests other than discovery."""
        discovery = {"/version", "/api", "/apis", *RESOURCE_LISTS}
        return [r for r in self.requests if r.path not in discovery]

    # --- the contract ------------------------------------------------------------------------

    def answer(self, method: str, target: str, content_type: str,
               raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        body = yaml.safe_load(raw) if raw else None
        self.requests.append(Request(method, path, parse_qs(parts.query), content_type, body))
        if method == "GET" and path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0",
                         "platform": "linux/amd64"}
        if method == "GET" and path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": []}
        if method == "GET" and path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": GROUPS}
        if method == "GET" and path in RESOURCE_LISTS:
            group_version = path.removeprefix("/api/").removeprefix("/apis/")
            return 200, {"kind": "APIResourceList", "apiVersion": "v1",
                         "groupVersion": group_version, "resources": RESOURCE_LISTS[path]}
        if method == "PATCH":
            if content_type != "application/apply-patch+yaml":
                return 415, _status(415, f"unsupported patch type {content_type}")
            stored = self._with_status(body)
            if parse_qs(parts.query).get("dryRun") != ["All"]:
                self.objects[path] = stored
            return 200, stored
        if method == "GET":
            if path in self.objects:
                return 200, self.objects[path]
            return 404, _status(404, f"{path} not found")
        if method == "DELETE":
            if path not in self.objects:
                return 404, _status(404, f"{path} not found")
            if parse_qs(parts.query).get("dryRun") != ["All"]:
                del self.objects[path]
            return 200, _status(200, "deleted")
        return 405, _status(405, f"{method} not in the contract")

    def _with_status(self, body: dict[str, Any]) -> dict[str, Any]:
        stored = json.loads(json.dumps(body))
        stored.setdefault("metadata", {})["generation"] = 1
        kind, ready = stored.get("kind"), self.workloads_ready
        if kind == "Job":
            stored["status"] = ({"succeeded": 1, "conditions": [
                {"type": "Complete", "status": "True"}]} if ready else {"active": 1})
        elif kind == "Deployment":
            wanted = stored.get("spec", {}).get("replicas", 1)
            done = wanted if ready else 0
            stored["status"] = {"observedGeneration": 1, "replicas": wanted,
                                "updatedReplicas": done, "availableReplicas": done}
        elif kind == "DaemonSet":
            stored["status"] = {"observedGeneration": 1, "desiredNumberScheduled": 1,
                                "updatedNumberScheduled": int(ready),
                                "numberAvailable": int(ready)}
        return stored


def _status(code: int, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure" if code >= 400 else
            "Success", "message": message, "code": code,
            "reason": {404: "NotFound", 405: "MethodNotAllowed", 415: "UnsupportedMediaType"}
            .get(code, "")}
