#!/usr/bin/env python3
"""Batch ingest into gnocchi through the load balancer and straight to one gnocchi-api backend,
in one run, then the time metricd takes to drain the backlog; print rates and their ratio.

Each client thread posts batches of --metrics metrics x --points points (seed 003's
horizon-mimic policy unless --policy) until --measures measures went in, first through the LB,
then to the backend; the backlog of each pass is drained (gnocchi's /v1/status reports no
measures left of the pass's metrics) and timed before the next. Run by hand on a deployed
stack (not in CI):

    .venv/bin/python benchmarks/ingest.py                       # the all-in-one
    .venv/bin/python benchmarks/ingest.py --configdir /var/lib/telemetry-rig/config \\
        --lb 10.213.0.10 --backend 10.213.0.11                  # the rig (tools/rig.sh)
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIRST_TIMESTAMP = 1_700_000_000


@dataclass(frozen=True)
class Pass:
    name: str
    measures: int
    seconds: float
    failed: int
    drain_seconds: float

    @property
    def rate(self) -> float:
        return self.measures / self.seconds


def call(url: str, token: str | None = None, body: Any = None,
         timeout: float = 120) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json", **({"X-Auth-Token": token} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers),
                                    timeout=timeout) as reply:
            raw = reply.read()
            return reply.status, dict(reply.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
    except urllib.error.URLError as error:
        sys.exit(f"nothing answers at {url} ({error.reason}): is the stack deployed, and are "
                 "--lb, --backend and the ports those of this deployment?")


def gnocchi_api_port(configdir: Path) -> int:
    """The deployment's gnocchi-api port: its globals.yml override, else the catalog's."""
    from telemetry.catalog import catalog_variables, load_catalog

    globals_file = configdir / "globals.yml"
    overrides = (yaml.safe_load(globals_file.read_text()) or {}) if globals_file.is_file() else {}
    return int(overrides.get("gnocchi_api_port")
               or catalog_variables(load_catalog())["gnocchi_api_port"])


def admin_token(keystone: str, configdir: Path) -> str:
    password = yaml.safe_load((configdir / "passwords.yml").read_text())["keystone_admin_password"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    status, headers, reply = call(f"{keystone}/v3/auth/tokens", body=body)
    if status != 201:
        sys.exit(f"keystone at {keystone} refused the admin login ({status}): {reply}")
    return headers["X-Subject-Token"]


def new_metrics(gnocchi: str, token: str, policy: str, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        status, _, metric = call(f"{gnocchi}/v1/metric", token, {"archive_policy_name": policy})
        if status != 201:
            sys.exit(f"cannot create a metric with policy {policy} ({status}): {metric}")
        ids.append(metric["id"])
    return ids


def ingest(gnocchi: str, token: str, metrics: list[str], points: int, batches: int,
           clients: int) -> tuple[float, int]:
    """(seconds, failed batches) for `batches` batches over `clients` threads; each client
    owns a slice of the metrics and sends its batches in order, as a ceilometer publisher."""
    owned = [metrics[index::clients] for index in range(clients)]
    per_client = [batches // clients + (index < batches % clients) for index in range(clients)]
    failed = 0
    lock = threading.Lock()

    def client(index: int) -> None:
        nonlocal failed
        for number in range(per_client[index]):
            start = FIRST_TIMESTAMP + number * points
            body = {m: [{"timestamp": start + s, "value": float(s)} for s in range(points)]
                    for m in owned[index]}
            try:
                status = call(f"{gnocchi}/v1/batch/metrics/measures", token, body)[0]
            except OSError:
                status = 0
            if status != 202:
                with lock:
                    failed += 1

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return time.monotonic() - started, failed


def drain(gnocchi: str, token: str, metrics: list[str], timeout: float) -> float:
    """Seconds until gnocchi's status reports none of `metrics`' measures left to process
    (only this pass's: the stack's own pollers keep feeding other metrics meanwhile)."""
    started, ours = time.monotonic(), set(metrics)
    while time.monotonic() - started < timeout:
        status, _, reply = call(f"{gnocchi}/v1/status?details=true", token)
        if status == 200 and not ours & set(reply["storage"]["measures_to_process"]):
            return time.monotonic() - started
        time.sleep(0.5)
    sys.exit(f"metricd did not drain the backlog within {timeout:.0f}s")


def run_pass(name: str, gnocchi: str, token: str, options: argparse.Namespace) -> Pass:
    metrics = new_metrics(gnocchi, token, options.policy, options.metrics)
    batches = options.measures // (options.metrics * options.points)
    print(f"{name}: {batches} batches from {options.clients} clients...", flush=True)
    seconds, failed = ingest(gnocchi, token, metrics, options.points, batches, options.clients)
    print(f"{name}: sent in {seconds:.1f}s ({failed} failed); metricd draining...", flush=True)
    drained = drain(gnocchi, token, metrics, options.drain_timeout)
    print(f"{name}: drained in {drained:.1f}s", flush=True)
    return Pass(name, batches * options.metrics * options.points, seconds, failed, drained)


def add_pass_arguments(parser: argparse.ArgumentParser) -> None:
    """What a pass through the LB reads: the LB's ports, the load and its shape."""
    parser.add_argument("--gnocchi-lb-port", type=int, default=18041)
    parser.add_argument("--keystone-lb-port", type=int, default=15000)
    parser.add_argument("--measures", type=int, default=1_000_000, help="per pass")
    parser.add_argument("--metrics", type=int, default=20, help="per batch")
    parser.add_argument("--points", type=int, default=1000, help="per metric per batch")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--policy", default="horizon-mimic")
    parser.add_argument("--drain-timeout", type=float, default=900)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configdir", type=Path, default=Path("/etc/telemetry"))
    parser.add_argument("--lb", default="127.0.0.1", help="the load balancer's address")
    parser.add_argument("--backend", default="127.0.0.1", help="one gnocchi-api's address")
    parser.add_argument("--gnocchi-api-port", type=int,
                        help="default: the config dir's globals.yml, else the catalog's")
    add_pass_arguments(parser)
    options = parser.parse_args()
    options.gnocchi_api_port = options.gnocchi_api_port or gnocchi_api_port(options.configdir)
    token = admin_token(f"http://{options.lb}:{options.keystone_lb_port}", options.configdir)
    passes = [run_pass("through the LB", f"http://{options.lb}:{options.gnocchi_lb_port}",
                       token, options),
              run_pass("to one backend", f"http://{options.backend}:{options.gnocchi_api_port}",
                       token, options)]
    print(f"{'pass':<16} {'measures':>9} {'seconds':>8} {'measures/s':>11} {'failed':>7} "
          f"{'drain s':>8}")
    for item in passes:
        print(f"{item.name:<16} {item.measures:>9} {item.seconds:>8.1f} {item.rate:>11.0f} "
              f"{item.failed:>7} {item.drain_seconds:>8.1f}")
    print(f"LB / one backend ingest rate: {passes[0].rate / passes[1].rate:.2f}x")
    return 1 if any(item.failed for item in passes) else 0


if __name__ == "__main__":
    sys.exit(main())
