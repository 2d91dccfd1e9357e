#!/usr/bin/env python3
"""Time to recover from losing a controller of the rig: its test host is killed (a power cut:
every container at once), left down, started again, and each milestone is timed from the
start: the API backends it serves healthy again, its Galera node Synced in a 3-node Primary
component, its RabbitMQ node running in the cluster, its redis replicating the master (a new
one, elected by the sentinels, when it was the master). Meanwhile one client reads the APIs
through the LB host and counts the answers that were not 200. Run by hand on a deployed rig
(tools/rig.sh, `molecule converge -s multinode`), not in CI:

    .venv/bin/python benchmarks/recovery.py                    # api02, down 10 s
    .venv/bin/python benchmarks/recovery.py --host api01      # the redis master's host
    .venv/bin/python benchmarks/recovery.py --host agents01 --down 30
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

RIG_KEY = "/var/lib/telemetry-rig/id_ed25519"
HOSTS = {"lb01": "10.213.0.10", "api01": "10.213.0.11", "api02": "10.213.0.12",
         "agents01": "10.213.0.13"}
# What each controller serves behind the LB (the rig inventory): name -> (port, path).
BACKENDS = {"keystone": (5000, "/v3"), "gnocchi-api": (8041, "/healthcheck"),
            "aodh-api": (8042, "/healthcheck")}
API_HOSTS = ("api01", "api02")


def on_host(host: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-n", "-i", RIG_KEY, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=2",
         f"root@{HOSTS[host]}", command], capture_output=True, text=True, check=False)


def answers(url: str, token: str | None = None) -> int:
    headers = {"X-Auth-Token": token} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def galera_synced(host: str) -> bool:
    status = on_host(host, "podman exec mariadb mariadb -N -B -e \"SHOW GLOBAL STATUS WHERE "
                           "Variable_name IN ('wsrep_local_state_comment','wsrep_cluster_size')\"")
    return status.returncode == 0 and sorted(status.stdout.split()) == sorted(
        ["wsrep_cluster_size", "3", "wsrep_local_state_comment", "Synced"])


def rabbitmq_running(host: str) -> bool:
    witness = "agents01" if host != "agents01" else "api02"
    status = on_host(witness, "podman exec rabbitmq rabbitmqctl cluster_status --formatter json")
    return (status.returncode == 0
            and f"rabbit@{HOSTS[host]}" in json.loads(status.stdout)["running_nodes"])


def redis_replicating(host: str, password: str) -> bool:
    """Its redis is a replica whose link to the master is up."""
    info = on_host(host, f"podman exec -e REDISCLI_AUTH={shlex.quote(password)} redis redis-cli "
                         f"--no-auth-warning -h {HOSTS[host]} INFO replication")
    lines = info.stdout.split()
    return info.returncode == 0 and {"role:slave", "master_link_status:up"} <= set(lines)


def backends_healthy(host: str) -> bool:
    if host not in API_HOSTS:
        return True
    statuses = [answers(f"http://{HOSTS[host]}:{port}{path}") for port, path in BACKENDS.values()]
    return all(0 < status < 500 for status in statuses)


def issue_token(password: str) -> str:
    body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}).encode()
    request = urllib.request.Request(f"http://{HOSTS['lb01']}:15000/v3/auth/tokens", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.headers["X-Subject-Token"]


class Reader:
    """Reads keystone, gnocchi and aodh through the LB, one request after another."""

    def __init__(self, token: str) -> None:
        self.token, self.done, self.failed = token, 0, 0
        self.failures: dict[str, int] = {}  # "status url" -> count
        self.stopping = threading.Event()

    def run(self) -> None:
        urls = [f"http://{HOSTS['lb01']}:15000/v3/projects",
                f"http://{HOSTS['lb01']}:18041/v1/resource/generic?limit=1",
                f"http://{HOSTS['lb01']}:18042/v2/alarms"]
        while not self.stopping.is_set():
            for url in urls:
                self.done += 1
                status = answers(url, self.token)
                if status != 200:
                    self.failed += 1
                    what = f"{status} {url.split('/', 3)[2]}"
                    self.failures[what] = self.failures.get(what, 0) + 1


def timed(label: str, started: float, check: Callable[[], bool], timeout: float) -> float:
    while not check():
        if time.monotonic() - started > timeout:
            sys.exit(f"{label}: not after {timeout:.0f} s")
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    print(f"  {elapsed:6.1f} s  {label}", flush=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="api02", choices=["api01", "api02", "agents01"],
                        help="the controller to lose (api01 holds the redis master after a "
                             "deploy)")
    parser.add_argument("--down", type=float, default=10, help="seconds it stays down")
    parser.add_argument("--configdir", type=Path, default=Path("/var/lib/telemetry-rig/config"))
    args = parser.parse_args()
    passwords = yaml.safe_load((args.configdir / "passwords.yml").read_text())
    reader = Reader(issue_token(passwords["keystone_admin_password"]))
    thread = threading.Thread(target=reader.run)
    thread.start()
    try:
        print(f"{args.host}: killed, down {args.down:g} s, started; from the kill:")
        started = time.monotonic()
        subprocess.run(["podman", "kill", "--signal", "KILL", f"rig-{args.host}"], check=True,
                       capture_output=True)
        time.sleep(args.down)
        subprocess.run(["podman", "start", f"rig-{args.host}"], check=True, capture_output=True)
        timed("host started", started, lambda: True, 0)
        timed("its API backends healthy", started, lambda: backends_healthy(args.host), 300)
        galera = timed("its Galera node Synced (3 nodes)", started,
                       lambda: galera_synced(args.host), 300)
        rabbit = timed("its RabbitMQ node running in the cluster", started,
                       lambda: rabbitmq_running(args.host), 300)
        redis = timed("its redis replicating the master", started,
                      lambda: redis_replicating(args.host, passwords["redis_password"]), 300)
    finally:
        reader.stopping.set()
        thread.join()
    print(f"recovered (every cluster whole again) {max(galera, rabbit, redis):.1f} s after the "
          f"kill; "
          f"reads through the LB meanwhile: {reader.done}, not 200: {reader.failed}")
    if reader.failures:
        print("  not 200: " + ", ".join(f"{what} x{count}" for what, count
                                        in sorted(reader.failures.items())))
    return 0 if reader.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
