"""The stack's APIs as a user reaches them: through the nginx load balancer on this host."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

# The load balancer's host: this one (the all-in-one), or the rig's LB host (multinode).
LB = f"http://{os.environ.get('TELEMETRY_LB_ADDRESS', '127.0.0.1')}"
KEYSTONE = f"{LB}:15000/v3"
GNOCCHI = f"{LB}:18041/v1"
AODH = f"{LB}:18042/v2"


def request(url: str, token: str | None = None, body: Any = None,
            method: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        headers["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as reply:
            raw = reply.read()
            return reply.status, dict(reply.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def issue_token(user: str, password: str, project: str, keystone: str = KEYSTONE) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    status, headers, reply = request(f"{keystone}/auth/tokens", body=body)
    assert status == 201, reply
    return headers["X-Subject-Token"]


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 300) -> Any:
    """probe()'s first truthy value, polled every 5 s; TimeoutError naming `what` after."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(5)
    raise TimeoutError(f"{what}: nothing after {timeout}s")


@contextlib.contextmanager
def webhook_receiver(host: str, port: int = 0) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An alarm action endpoint: (its URL, the JSON bodies POSTed to it so far)."""
    received: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}/alarm", received
    finally:
        server.shutdown()
