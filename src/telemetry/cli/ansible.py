"""telemetry-ansible: deploy and operate the telemetry stack, like kolla-ansible.

Playbook actions (deploy, genconfig, reconfigure, upgrade) run ansible/deploy.yml with the
operator's config dir; check, stop and destroy act on this host's containers through the
engine's API, in the catalog's dependency order.

Exit codes: 0 done; 1 the action failed (a playbook failed, a container is unhealthy);
2 bad input (missing config dir or passwords, a refused destroy); 3 no engine reachable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from telemetry.catalog import load_catalog
from telemetry.common.engine import DEFAULT_ENGINE_URL, connect
from telemetry.common.errors import BadInput, run_cli
from telemetry.common.health import check_container
from telemetry.common.yaml_files import load_mapping
from telemetry.deploy.ansible_tools import ansible_tool
from telemetry.deploy.prechecks import run_prechecks
from telemetry.deploy.stack import catalog_volumes, deployed_containers
from telemetry.deploy.upgrade import format_plan, host_release
from telemetry.paths import passwords_template, project_root

PROG = "telemetry-ansible"
# ansible/group_vars/all/deploy.yml's node_config_directory default.
NODE_CONFIG_DIRECTORY = Path("/etc/telemetry/containers")
PLAYBOOK_ACTIONS = {"deploy": "deploy", "genconfig": "genconfig",
                    "reconfigure": "reconfigure", "upgrade": "upgrade"}
DESCRIPTION = """Deploy and operate the telemetry stack (aodh, ceilometer, gnocchi and friends).

first deployment, all-in-one:
  telemetry-genpwd -p /etc/telemetry/passwords.yml
  telemetry-ansible prechecks
  telemetry-ansible deploy
  telemetry-ansible check

actions:
  deploy       deploy or update every service; only containers whose config, image or
               settings changed are recreated, and the reason is printed. Runs the
               prechecks first and changes nothing when one fails (--skip-prechecks)
  prechecks    engine reachable, ports free, inventory/globals valid, passwords set, memory, disk
  genconfig    render every config file into /etc/telemetry/containers, start nothing
  reconfigure  same as deploy (kept for kolla-ansible muscle memory)
  check        run every container's healthcheck; table of state, health, restarts
  stop         stop the containers, dependents first
  destroy      remove the containers (and with --include-volumes their data)
  upgrade      move to telemetry_base_release's OpenStack release (e.g. Zed -> 2025.1), service
               by service in dependency order: new images, database migrations, then the
               new containers; rabbitmq is drained and starts empty, mariadb-upgrade runs.
               `upgrade --check` prints that plan per container and changes nothing

upgrading from Zed (Debian 12) to 2025.1 (Debian 13):
  telemetry-build --base-release trixie     # the 2025.1 images, next to the zed ones
  (set telemetry_base_release: trixie in globals.yml, or remove bookworm from it)
  telemetry-ansible upgrade --check         # what will change image and what migrates
  telemetry-ansible upgrade
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=[*PLAYBOOK_ACTIONS, "prechecks", "check", "stop",
                                           "destroy"])
    parser.add_argument("-i", "--inventory", type=Path,
                        help="Ansible inventory (default: ansible/inventory/all-in-one)")
    parser.add_argument("--configdir", type=Path, default=Path("/etc/telemetry"),
                        help="globals.yml and passwords.yml (default /etc/telemetry)")
    parser.add_argument("-t", "--tags", help="only these services (Ansible tags), e.g. gnocchi")
    parser.add_argument("--limit", help="only these hosts")
    parser.add_argument("-e", "--extra-vars", action="append", default=[],
                        help="extra variables for ansible-playbook (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="report what would change, change nothing (Ansible check mode; "
                             "with upgrade: the upgrade plan per container)")
    parser.add_argument("--diff", action="store_true", help="show changes to config files")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--engine-url", default=DEFAULT_ENGINE_URL,
                        help="the container engine's Docker API on this host")
    parser.add_argument("--yes-i-really-really-mean-it", action="store_true",
                        help="required by destroy")
    parser.add_argument("--skip-prechecks", action="store_true",
                        help="deploy/reconfigure/upgrade/genconfig without running prechecks")
    parser.add_argument("--include-volumes", action="store_true",
                        help="destroy also removes the named volumes (databases, metrics)")
    return parser


def playbook_command(args: argparse.Namespace) -> list[str]:
    root = project_root()
    inventory = args.inventory or root / "ansible" / "inventory" / "all-in-one"
    if not inventory.exists():
        raise BadInput(f"inventory {inventory} does not exist")
    if not (args.configdir / "passwords.yml").is_file():
        raise BadInput(f"{args.configdir}/passwords.yml does not exist: copy "
                       f"{passwords_template()} there and run telemetry-genpwd -p "
                       f"{args.configdir}/passwords.yml")
    command = [ansible_tool("ansible-playbook"), "-i", str(inventory),
               str(root / "ansible" / "deploy.yml"), "-e", f"telemetry_config_dir={args.configdir}",
               "-e", f"telemetry_action={PLAYBOOK_ACTIONS[args.action]}"]
    if args.tags:
        command += ["--tags", args.tags]
    if args.limit:
        command += ["--limit", args.limit]
    for extra in args.extra_vars:
        command += ["-e", extra]
    if args.check:
        command.append("--check")
    if args.diff:
        command.append("--diff")
    if args.verbose:
        command.append("-" + "v" * args.verbose)
    return command


def run_playbook(args: argparse.Namespace) -> int:
    command = playbook_command(args)
    print(f"telemetry-ansible {args.action}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": os.environ.get("ANSIBLE_FORCE_COLOR", "0")}
    code = subprocess.call(command, env=env)
    verdict = "done" if code == 0 else f"FAILED (ansible-playbook exit {code})"
    print(f"telemetry-ansible {args.action}: {verdict} in {time.monotonic() - started:.0f}s")
    return 0 if code == 0 else 1


def check(args: argparse.Namespace) -> int:
    client = connect(args.engine_url, timeout=120)
    deployed = deployed_containers(client, load_catalog())
    if not deployed:
        print("no telemetry containers on this host: run telemetry-ansible deploy")
        return 1
    print(f"{'container':<26} {'service':<14} {'state':<10} {'health':<10} {'restarts':>8}  detail")
    unhealthy = 0
    for item in deployed:
        health = check_container(item.container)
        unhealthy += health.health not in ("healthy", "none")
        print(f"{health.name:<26} {item.service:<14} {health.state:<10} {health.health:<10} "
              f"{health.restarts:>8}  {health.detail[:60]}")
    print(f"{len(deployed) - unhealthy} of {len(deployed)} containers healthy")
    return 1 if unhealthy else 0


def stop(args: argparse.Namespace) -> int:
    client = connect(args.engine_url, timeout=120)
    # Dependents first: metricd and the evaluator hang for 15 s if their backends go first.
    for item in reversed(deployed_containers(client, load_catalog())):
        started = time.monotonic()
        item.container.stop(timeout=30)
        print(f"stopped {item.container.name} ({time.monotonic() - started:.1f}s)")
    return 0


def destroy(args: argparse.Namespace) -> int:
    if not args.yes_i_really_really_mean_it:
        raise BadInput("destroy removes every telemetry container on this host; pass "
                       "--yes-i-really-really-mean-it to confirm (add --include-volumes to "
                       "delete their data too)")
    catalog = load_catalog()
    client = connect(args.engine_url, timeout=120)
    for item in reversed(deployed_containers(client, catalog)):
        item.container.remove(force=True)
        print(f"removed container {item.container.name}")
    # The rendered configs and the applied bootstrap specs describe what was destroyed.
    if NODE_CONFIG_DIRECTORY.is_dir():
        shutil.rmtree(NODE_CONFIG_DIRECTORY)
        print(f"removed {NODE_CONFIG_DIRECTORY}")
    if args.include_volumes:
        for name in catalog_volumes(catalog):
            volume = next(iter(client.volumes.list(filters={"name": f"^{name}$"})), None)
            if volume is not None:
                volume.remove(force=True)
                print(f"removed volume {name}")
    else:
        print(f"kept named volumes {', '.join(catalog_volumes(catalog))} "
              f"(--include-volumes removes them)")
    return 0


def check_inputs(args: argparse.Namespace) -> None:
    """Bad input (exit 2) before any precheck, play or container is touched: a catalog that
    does not load, a globals.yml or passwords.yml that is not a YAML mapping. A missing
    globals.yml or passwords.yml is for the prechecks to report."""
    load_catalog()
    if args.action in (*PLAYBOOK_ACTIONS, "prechecks"):
        for name in ("globals.yml", "passwords.yml"):
            if (args.configdir / name).exists():
                load_mapping(args.configdir / name)


def upgrade_check(args: argparse.Namespace) -> int:
    """`upgrade --check`: the plan for this host, from the engine and the catalog; 1 when the
    prechecks' release rule refuses the upgrade or an image is missing."""
    catalog = load_catalog()
    overrides = load_mapping(args.configdir / "globals.yml") \
        if (args.configdir / "globals.yml").exists() else {}
    state = host_release(connect(args.engine_url, timeout=120), catalog,
                         catalog.release(overrides.get("telemetry_base_release")), upgrading=True)
    if state.plan is None:
        print(f"{PROG} upgrade: refused: {state.problem}", file=sys.stderr)
        return 1
    print(format_plan(state.plan))
    return 1 if state.plan.missing_images else 0


def run(args: argparse.Namespace) -> int:
    check_inputs(args)
    if args.action == "upgrade" and args.check:
        return upgrade_check(args)
    if args.action in PLAYBOOK_ACTIONS:
        if not (args.skip_prechecks or args.check) and run_prechecks(
                args.configdir, args.inventory, args.engine_url,
                upgrading=args.action == "upgrade") != 0:
            print(f"{PROG} {args.action}: refused, nothing was changed: fix what the "
                  "prechecks above name (or pass --skip-prechecks)", file=sys.stderr)
            return 1
        return run_playbook(args)
    if args.action == "prechecks":
        return run_prechecks(args.configdir, args.inventory, args.engine_url)
    return {"check": check, "stop": stop, "destroy": destroy}[args.action](args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(PROG, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
