"""The stack's APIs as a user reaches them: through the nginx load balancer on this host."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

LB = "http://127.0.0.1"
KEYSTONE = f"{LB}:15000/v3"
GNOCCHI = f"{LB}:18041/v1"
AODH = f"{LB}:18042/v2"


def request(url: str, token: str | None = None, body: Any = None,
            method: str | None = None) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
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


def issue_token(user: str, password: str, project: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    status, headers, reply = request(f"{KEYSTONE}/auth/tokens", body=body)
    assert status == 201, reply
    return headers["X-Subject-Token"]
