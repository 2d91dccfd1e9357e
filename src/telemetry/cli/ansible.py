"""telemetry-ansible: deploy and operate the telemetry stack, like kolla-ansible.

Every action runs a playbook over the inventory's hosts (--limit narrows them): deploy,
genconfig, reconfigure and upgrade run ansible/deploy.yml; pull, check, stop, destroy and the
host half of prechecks run ansible/day2.yml. prechecks also checks, here, the inventory,
globals.yml, passwords.yml and the release of what this machine's engine runs.

Exit codes: 0 done; 1 the action failed (a playbook failed, a container is unhealthy, a
precheck failed); 2 bad input (missing config dir or passwords, a refused destroy); 3 no engine
reachable.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from telemetry.catalog import load_catalog
from telemetry.common.engine import DEFAULT_ENGINE_URL, connect
from telemetry.common.errors import BadInput, run_cli
from telemetry.common.yaml_files import load_mapping
from telemetry.deploy.ansible_tools import ansible_tool
from telemetry.deploy.prechecks import run_prechecks
from telemetry.deploy.upgrade import format_plan, host_release
from telemetry.paths import passwords_template, project_root

PROG = "telemetry-ansible"
PLAYBOOK_ACTIONS = {"deploy": "deploy", "genconfig": "genconfig",
                    "reconfigure": "reconfigure", "upgrade": "upgrade",
                    "mariadb-recovery": "deploy"}
# mariadb-recovery is a deploy of mariadb alone that first restarts the Galera cluster from
# its most advanced node (ansible/roles/mariadb/tasks/before.yml).
RECOVERY_VARS = ["-e", "telemetry_mariadb_recovery=true", "--tags", "mariadb"]
# Actions of ansible/day2.yml; they need no passwords.yml (prechecks reports it missing).
DAY2_ACTIONS = ("pull", "check", "stop", "destroy")
DESCRIPTION = """Deploy and operate the telemetry stack (aodh, ceilometer, gnocchi and friends).

first deployment, all-in-one:
  telemetry-genpwd -p /etc/telemetry/passwords.yml
  telemetry-ansible prechecks
  telemetry-ansible deploy
  telemetry-ansible check

several hosts (the README's "Multinode"; tools/rig.sh makes test hosts on one machine):
  telemetry-build --registry REGISTRY:5000 --push
  telemetry-ansible -i INVENTORY pull       # every host fetches its images
  telemetry-ansible -i INVENTORY prechecks
  telemetry-ansible -i INVENTORY deploy
  telemetry-ansible -i INVENTORY reconfigure --serial 1   # one host of a group at a time

actions (each on every host of the inventory; --limit HOSTS narrows them):
  deploy       deploy or update every service; only containers whose config, image or
               settings changed are recreated, and the reason is printed. Runs the
               prechecks first and changes nothing when one fails (--skip-prechecks)
  prechecks    here: inventory, globals.yml, passwords.yml, the release of what runs; on each
               host: engine, ports free, memory, disk, clock, reaches the other hosts
  pull         each host pulls the images of what it runs from telemetry_registry
  genconfig    render every config file into /etc/telemetry/containers, start nothing
  reconfigure  same as deploy (kept for kolla-ansible muscle memory)
  check        each host runs its containers' healthchecks; table of state, health, restarts
  stop         each host stops its containers, dependents first
  destroy      each host removes its containers (and with --include-volumes their data)
  mariadb-recovery
               after every node of a Galera cluster (the mariadb group) stopped, or the
               cluster lost its majority: stops what still runs, finds the node with the
               last commit (mariadbd --wsrep-recover), starts the cluster there and has the
               others rejoin it, as kolla-ansible mariadb_recovery does
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
    parser.add_argument("action", choices=[*PLAYBOOK_ACTIONS, "prechecks", *DAY2_ACTIONS])
    parser.add_argument("-i", "--inventory", type=Path,
                        help="Ansible inventory (default: ansible/inventory/all-in-one)")
    parser.add_argument("--configdir", type=Path, default=Path("/etc/telemetry"),
                        help="globals.yml and passwords.yml (default /etc/telemetry)")
    parser.add_argument("-t", "--tags", help="only these services (Ansible tags), e.g. gnocchi")
    parser.add_argument("--limit", help="only these hosts (an Ansible pattern: api01,lb01)")
    parser.add_argument("--serial", help="deploy, reconfigure, upgrade: this many hosts (or "
                        "a percentage) at a time, as Kolla-Ansible's kolla_serial; for a "
                        "deployment that runs already")
    parser.add_argument("-e", "--extra-vars", action="append", default=[],
                        help="extra variables for ansible-playbook (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="report what would change, change nothing (Ansible check mode; "
                             "with upgrade: the upgrade plan per container)")
    parser.add_argument("--diff", action="store_true", help="show changes to config files")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--engine-url",
                        help="the container engine's Docker API on every host (default: "
                             f"telemetry_engine_url, {DEFAULT_ENGINE_URL})")
    parser.add_argument("--yes-i-really-really-mean-it", action="store_true",
                        help="required by destroy")
    parser.add_argument("--skip-prechecks", action="store_true",
                        help="deploy/reconfigure/upgrade/genconfig without running prechecks")
    parser.add_argument("--include-volumes", action="store_true",
                        help="destroy also removes the named volumes (databases, metrics)")
    parser.add_argument("--forks", type=int,
                        help="hosts Ansible works on in parallel (ansible-playbook --forks)")
    return parser


def inventory_path(args: argparse.Namespace) -> Path:
    inventory = args.inventory or project_root() / "ansible" / "inventory" / "all-in-one"
    if not inventory.exists():
        raise BadInput(f"inventory {inventory} does not exist")
    return inventory


def playbook_command(args: argparse.Namespace, action: str | None = None) -> list[str]:
    """ansible-playbook for an action: deploy.yml for the deploy actions, day2.yml else."""
    action = action or args.action
    root = project_root()
    playbook = "deploy.yml" if action in PLAYBOOK_ACTIONS else "day2.yml"
    if action in PLAYBOOK_ACTIONS and not (args.configdir / "passwords.yml").is_file():
        raise BadInput(f"{args.configdir}/passwords.yml does not exist: copy "
                       f"{passwords_template()} there and run telemetry-genpwd -p "
                       f"{args.configdir}/passwords.yml")
    command = [ansible_tool("ansible-playbook"), "-i", str(inventory_path(args)),
               str(root / "ansible" / playbook), "-e", f"telemetry_config_dir={args.configdir}",
               "-e", f"telemetry_action={PLAYBOOK_ACTIONS.get(action, action)}"]
    if action == "mariadb-recovery":
        command += RECOVERY_VARS
    elif args.tags:
        command += ["--tags", args.tags]
    if args.limit:
        command += ["--limit", args.limit]
    if args.serial:
        command += ["-e", f"telemetry_serial={args.serial}"]
    if args.engine_url:
        command += ["-e", f"telemetry_engine_url={args.engine_url}"]
    if args.forks:
        command += ["--forks", str(args.forks)]
    if action == "destroy" and args.include_volumes:
        command += ["-e", "telemetry_destroy_volumes=true"]
    for extra in args.extra_vars:
        command += ["-e", extra]
    if args.check:
        command.append("--check")
    if args.diff:
        command.append("--diff")
    if args.verbose:
        command.append("-" + "v" * args.verbose)
    return command


def run_playbook(args: argparse.Namespace, action: str | None = None) -> int:
    action = action or args.action
    command = playbook_command(args, action)
    print(f"{PROG} {action}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": os.environ.get("ANSIBLE_FORCE_COLOR", "0"),
           # The catalog's groups are named like its containers (gnocchi-metricd).
           "ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS": "ignore",
           # One SSH round trip per task instead of three (no module file copied first).
           "ANSIBLE_PIPELINING": os.environ.get("ANSIBLE_PIPELINING", "True")}
    code = subprocess.call(command, env=env)
    verdict = "done" if code == 0 else f"FAILED (ansible-playbook exit {code})"
    print(f"{PROG} {action}: {verdict} in {time.monotonic() - started:.0f}s")
    return 0 if code == 0 else 1


def destroy(args: argparse.Namespace) -> int:
    if not args.yes_i_really_really_mean_it:
        raise BadInput("destroy removes every telemetry container on the inventory's hosts; "
                       "pass --yes-i-really-really-mean-it to confirm (add --include-volumes "
                       "to delete their data too)")
    return run_playbook(args)


def prechecks(args: argparse.Namespace, upgrading: bool = False) -> int:
    """The controller's checks, then each host's (day2.yml); 0 when all pass."""
    if run_prechecks(args.configdir, inventory_path(args),
                     args.engine_url or DEFAULT_ENGINE_URL, upgrading) != 0:
        # A broken inventory or globals.yml would fail the hosts' play for the same reason.
        print(f"{PROG} prechecks: the hosts' checks did not run: fix what failed here first")
        return 1
    if run_playbook(args, "prechecks") != 0:
        print(f"{PROG} prechecks: failed on hosts (the failed tasks above name them and why)",
              file=sys.stderr)
        return 1
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
    state = host_release(connect(args.engine_url or DEFAULT_ENGINE_URL, timeout=120), catalog,
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
        # A recovery runs while the cluster is down: the hosts' port checks would see its
        # own stopped-but-present containers' ports, and there is nothing to refuse.
        skip = args.skip_prechecks or args.check or args.action == "mariadb-recovery"
        if not skip and prechecks(args, upgrading=args.action == "upgrade") != 0:
            print(f"{PROG} {args.action}: refused, nothing was changed: fix what the "
                  "prechecks above name (or pass --skip-prechecks)", file=sys.stderr)
            return 1
        return run_playbook(args)
    if args.action == "prechecks":
        return prechecks(args)
    if args.action == "destroy":
        return destroy(args)
    return run_playbook(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(PROG, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
