#!/usr/bin/env python3
"""Ingest through the rig's load balancer with one controller, then with three, in one run;
print both rates and their ratio.

One controller: api01 alone holds mariadb, rabbitmq, redis and memcached (no Galera, no
RabbitMQ cluster, no Sentinel) and the only gnocchi-api, keystone and aodh-api behind lb01;
the agents stay on agents01. Three controllers: the rig inventory as it is (Galera written
through the mariadb-proxy, a RabbitMQ cluster with quorum queues, Redis with Sentinel and
replicas, memcached on api01, api02 and agents01, gnocchi-api on api01 and api02). The one-
controller inventory is the rig's with api02 left out and every clustered group narrowed to
api01, so nothing else differs. Each layout is deployed from scratch on the same test hosts
(`telemetry-ansible destroy --include-volumes` in between), then benchmarks/ingest.py's pass
through the LB runs against it. The time to recover from losing a controller is
benchmarks/recovery.py's.

Run by hand as root on this machine, not in CI (12 to 16 minutes here: two deploys):

    .venv/bin/python benchmarks/controllers.py                 # then tools/rig.sh down
    .venv/bin/python benchmarks/controllers.py --measures 300000   # quicker, noisier
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import ingest

ROOT = Path(__file__).resolve().parents[1]
RIG_INVENTORY = ROOT / "ansible" / "inventory" / "rig" / "hosts"
CONFIG_DIR = Path("/var/lib/telemetry-rig/config")
REGISTRY = "10.213.0.2:5000"
LB_ADDRESS = "10.213.0.10"
CONTROLLER = "api01"
# The rig inventory's groups whose hosts form a cluster, and the API hosts' group.
CLUSTERED_GROUPS = ("mariadb", "rabbitmq", "memcached", "redis")
API_GROUP = "control"
STARTED = time.monotonic()


@dataclass(frozen=True)
class Layout:
    name: str
    inventory: Path


def log(message: str) -> None:
    print(f"[controllers {time.monotonic() - STARTED:5.0f}s] {message}", flush=True)


def one_controller_inventory(rig_inventory: str, controller: str) -> str:
    """The rig inventory with its clustered groups and its API group narrowed to `controller`
    (hosts left in no group are left out of the deploy)."""
    narrowed = set(CLUSTERED_GROUPS) | {API_GROUP}
    lines, section = [], ""
    for line in rig_inventory.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]")
        elif (section in narrowed and stripped and not stripped.startswith("#")
              and stripped.split()[0] != controller):
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def step(what: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    """Run one step, its output kept to say why it failed (and only then shown)."""
    log(f"{what}...")
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-30:]
        sys.exit(f"{what} failed (exit {result.returncode}):\n" + "\n".join(output))
    log(f"{what}: done in {time.monotonic() - started:.0f}s")


def telemetry_ansible(inventory: Path, *action: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "telemetry-ansible"), "-i", str(inventory),
            "--configdir", str(CONFIG_DIR), *action]


def prepare_rig() -> None:
    """Test hosts, registry and images, as the multinode scenario's prepare does."""
    step("test hosts up (tools/rig.sh up)", ["bash", str(ROOT / "tools" / "rig.sh"), "up"])
    step("images built and pushed to the rig's registry",
         [str(ROOT / ".venv" / "bin" / "telemetry-build"), "--registry", REGISTRY, "--push",
          "--insecure-registry"])
    step("every host pulls its images", telemetry_ansible(RIG_INVENTORY.parent, "pull"))


def measure(layout: Layout, options: argparse.Namespace) -> ingest.Pass:
    step(f"{layout.name}: deploy", telemetry_ansible(layout.inventory, "deploy"))
    keystone = f"http://{LB_ADDRESS}:{options.keystone_lb_port}"
    token = ingest.admin_token(keystone, CONFIG_DIR)
    result = ingest.run_pass(layout.name, f"http://{LB_ADDRESS}:{options.gnocchi_lb_port}",
                             token, options)
    step(f"{layout.name}: destroy", telemetry_ansible(
        layout.inventory, "destroy", "--include-volumes", "--yes-i-really-really-mean-it"))
    return result


def report(measured: list[ingest.Pass]) -> None:
    print(f"{'layout':<18} {'measures':>9} {'seconds':>8} {'measures/s':>11} {'failed':>7} "
          f"{'drain s':>8}")
    for result in measured:
        print(f"{result.name:<18} {result.measures:>9} {result.seconds:>8.1f} "
              f"{result.rate:>11.0f} {result.failed:>7} {result.drain_seconds:>8.1f}")
    one, three = measured
    print(f"three / one controller ingest rate: {three.rate / one.rate:.2f}x; "
          f"drain time: {three.drain_seconds / one.drain_seconds:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    ingest.add_pass_arguments(parser)
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the rig's test hosts are privileged containers")
    with tempfile.TemporaryDirectory(prefix="controllers-") as scratch:
        one = Path(scratch) / "hosts"
        one.write_text(one_controller_inventory(RIG_INVENTORY.read_text(), CONTROLLER))
        prepare_rig()
        measured = [measure(Layout("one controller", one), options),
                    measure(Layout("three controllers", RIG_INVENTORY.parent), options)]
    report(measured)
    log("the rig is still up: tools/rig.sh down removes it")
    return 1 if any(result.failed for result in measured) else 0


if __name__ == "__main__":
    sys.exit(main())
