"""telemetry-ansible prechecks, the controller's half: inventory, globals.yml, passwords.yml,
where gnocchi's storage lives and the release of what this machine's engine runs. Each host's
half (engine, ports, memory, disk, clock, peers) is ansible/library/telemetry_host_checks.py,
run by ansible/day2.yml."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from telemetry.catalog import (
    CatalogVariableError,
    Container,
    catalog_variables,
    load_catalog,
    resolve,
)
from telemetry.common.engine import EngineUnreachable, connect
from telemetry.deploy.ansible_tools import ansible_tool
from telemetry.deploy.globals_file import SOURCES
from telemetry.deploy.upgrade import host_release
from telemetry.paths import project_root


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str


def check_passwords(configdir: Path) -> Result:
    wanted = yaml.safe_load((project_root() / "etc/telemetry/passwords.yml").read_text()) or {}
    path = configdir / "passwords.yml"
    if not path.is_file():
        return Result("passwords", False, f"{path} missing: copy etc/telemetry/passwords.yml "
                                          f"there and run telemetry-genpwd -p {path}")
    have = yaml.safe_load(path.read_text()) or {}
    missing = sorted(key for key in wanted if not have.get(key))
    if missing:
        return Result("passwords", False, f"no value for {', '.join(missing)}: run "
                                          f"telemetry-genpwd -p {path}")
    return Result("passwords", True, f"{len(wanted)} set")


def check_globals(configdir: Path) -> Result:
    path = configdir / "globals.yml"
    if not path.exists():
        return Result("globals", True, f"{path} absent: defaults apply")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return Result("globals", False, f"{path} is not valid YAML: {exc}")
    if data is not None and not isinstance(data, dict):
        return Result("globals", False, f"{path} must be a mapping of option: value")
    problems = switch_problems(data or {}) + catalog_problems(data or {})
    if problems:
        return Result("globals", False, f"{path}: {'; '.join(problems)}")
    return Result("globals", True, f"{len(data or {})} overrides")


def service_switches() -> list[str]:
    """The enable_* switches the deploy honours: one per catalog container, one per release
    feature."""
    catalog = load_catalog()
    return sorted([c.enable_variable for c in catalog.containers()]
                  + [f"enable_{feature}" for feature in catalog.features()])


def feature_problems(overrides: dict) -> list[str]:
    """A release feature switched on for a release that does not have it."""
    catalog = load_catalog()
    release = catalog.release(overrides.get("telemetry_base_release"))
    return [f"enable_{feature} needs a release that has it "
            f"({', '.join(r.name for r in catalog.releases.values() if feature in r.features)}); "
            f"telemetry_base_release is {release.name} (OpenStack {release.openstack})"
            for feature in catalog.features()
            if overrides.get(f"enable_{feature}") is True and feature not in release.features]


def catalog_problems(overrides: dict) -> list[str]:
    """A <port>_port override that is not a port, or that puts two services on one port; a
    telemetry_base_release the catalog has no images for."""
    catalog = load_catalog()
    release = overrides.get("telemetry_base_release")
    if release is not None and release not in catalog.releases:
        return [f"telemetry_base_release {release!r} is not one of the catalog's releases "
                f"({', '.join(catalog.releases)})"]
    if problems := feature_problems(overrides):
        return problems
    try:
        deploy_containers(overrides)
    except CatalogVariableError as exc:
        return [str(exc)]
    return []


def deploy_containers(overrides: dict) -> list[Container]:
    """The catalog's containers as these overrides make them (their ports above all)."""
    catalog = load_catalog()
    return resolve(catalog, {**catalog_variables(catalog), **overrides}).containers()


def switch_problems(overrides: dict) -> list[str]:
    """Unknown enable_* keys (a typo would silently deploy nothing) and non-boolean values."""
    known = service_switches()
    problems = []
    for key, value in overrides.items():
        if not str(key).startswith("enable_"):
            continue
        if key not in known:
            problems.append(f"{key} switches no container of the catalog (valid: "
                            f"{', '.join(known)})")
        elif not isinstance(value, bool):
            problems.append(f"{key} must be true or false, got {value!r}")
    return problems


def inventory_groups(inventory: Path) -> dict[str, list[str]] | str:
    """Each group's hosts, children resolved, as ansible-inventory reads the inventory; or
    why it could not."""
    command = [ansible_tool("ansible-inventory"), "-i", str(inventory), "--list"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"{inventory}: {result.stderr.strip()[-300:]}"
    listed = json.loads(result.stdout)

    def hosts(group: str, seen: frozenset[str] = frozenset()) -> list[str]:
        entry = listed.get(group, {})
        found = list(entry.get("hosts", []))
        for child in entry.get("children", []):
            if child not in seen:
                found += [h for h in hosts(child, seen | {group}) if h not in found]
        return found

    return {group: hosts(group) for group in listed if group != "_meta"}


def check_inventory(inventory: Path, groups: dict[str, list[str]] | str) -> Result:
    if isinstance(groups, str):
        return Result("inventory", False, groups)
    wanted = sorted({c.group for c in load_catalog().containers() if c.enabled} - {"all"})
    missing = [g for g in wanted if not groups.get(g)]
    if missing:
        return Result("inventory", False, f"{inventory}: groups without hosts: {missing}")
    return Result("inventory", True, f"{inventory}")


def _default(option: str) -> object:
    """An option's default, as ansible/group_vars/all sets it."""
    for source in SOURCES:
        values = yaml.safe_load((project_root() / source).read_text()) or {}
        if option in values:
            return values[option]
    raise KeyError(option)


def _hosts(hosts: list[str]) -> str:
    return f"{len(hosts)} host{'' if len(hosts) == 1 else 's'}"


def check_storage(groups: dict[str, list[str]] | str, overrides: dict) -> list[Result]:
    """gnocchi's file storage is one host's disk: gnocchi-api and gnocchi-metricd share it
    only when every one of them runs on that host."""
    if isinstance(groups, str):
        return []  # check_inventory reports it
    driver = overrides.get("gnocchi_storage_driver", _default("gnocchi_storage_driver"))
    gnocchi = load_catalog().services["gnocchi"]
    hosts = sorted({host for container in gnocchi.containers.values()
                    for host in groups.get(container.group, [])})
    if driver == "file" and len(hosts) > 1:
        return [Result("storage", False, (
            f"gnocchi_storage_driver is file, each host's own disk, and gnocchi runs on "
            f"{len(hosts)} hosts ({', '.join(hosts)}): what metricd stores on one host the "
            "gnocchi-api of another never reads. Set gnocchi_storage_driver: redis in "
            "globals.yml, or put every gnocchi container on one host"))]
    return [Result("storage", True, f"gnocchi {driver} storage, gnocchi on {_hosts(hosts)}")]


# The services whose state is shared by every host that runs them: with two hosts, losing either
# leaves the other without a majority (Galera stops serving, RabbitMQ pauses, Sentinel cannot
# elect), so two are worse than one.
QUORUM_SERVICES = ("mariadb", "rabbitmq", "redis")


def check_quorum(groups: dict[str, list[str]] | str) -> list[Result]:
    """Each of QUORUM_SERVICES on one host, or on three or more: never on exactly two."""
    if isinstance(groups, str):
        return []  # check_inventory reports it
    services = load_catalog().services
    results = []
    for name in QUORUM_SERVICES:
        group = services[name].group
        hosts = sorted(groups.get(group, []))
        if len(hosts) == 2:
            results.append(Result("quorum", False, (
                f"{name} runs on 2 hosts ({', '.join(hosts)}): a cluster of two has no "
                "majority once either is lost, so losing one host stops it on both. List 1 "
                f"host, or 3 or more, in the inventory's [{group}] group")))
        else:
            results.append(Result("quorum", True, f"{name} on {_hosts(hosts)}"))
    return results


def check_database_proxy(groups: dict[str, list[str]] | str) -> list[Result]:
    """mariadb on several hosts is a Galera cluster that the services reach through the
    mariadb-proxy: it needs a host to run on."""
    if isinstance(groups, str):
        return []  # check_inventory reports it
    mariadb = load_catalog().services["mariadb"]
    nodes = groups.get(mariadb.group, [])
    proxy_group = mariadb.containers["mariadb-proxy"].group
    if len(nodes) > 1 and not groups.get(proxy_group):
        return [Result("database", False, (
            f"mariadb runs on {len(nodes)} hosts, a Galera cluster that the services reach "
            f"through the mariadb-proxy, which runs on the [{proxy_group}] group's host, and "
            f"that group is empty: add a host to [{proxy_group}] in the inventory"))]
    how = "through the mariadb-proxy, one writer" if len(nodes) > 1 else "directly"
    return [Result("database", True, f"mariadb on {_hosts(nodes)}, reached {how}")]


def check_engine_release(engine_url: str, overrides: dict,
                         upgrading: bool = False) -> list[Result]:
    """The release rule against this machine's engine (the all-in-one host). Without an
    engine here there is nothing to hold the release against."""
    try:
        client = connect(engine_url, timeout=30)
    except EngineUnreachable:
        return [Result("release", True, f"no engine at {engine_url} on this machine: "
                                        "nothing deployed here to hold the release against")]
    return check_release(client, overrides, upgrading)


def check_release(client: object, overrides: dict, upgrading: bool) -> list[Result]:
    """What runs here against telemetry_base_release: deploy keeps a release, upgrade takes
    it one allowed step forward with every new image present, nothing goes back."""
    catalog = load_catalog()
    release = overrides.get("telemetry_base_release")
    if release is not None and release not in catalog.releases:
        return []  # check_globals names the unknown release
    state = host_release(client, catalog, catalog.release(release), upgrading)
    target = state.target
    results = [Result("release", state.problem is None, state.problem or (
        f"{target.openstack} ({target.name}); "
        + (f"{len(state.running)} containers deployed" if state.running
           else "nothing deployed yet")))]
    if state.plan is not None:
        missing = ", ".join(state.plan.missing_images)
        results.append(Result("images", not missing, (
            f"missing here: {missing}: build them with telemetry-build --base-release "
            f"{target.name} (or load them)") if missing else f"every {target.tag} image present"))
    return results


def _overrides(configdir: Path) -> dict:
    """globals.yml's values when it is a readable mapping (check_globals reports otherwise)."""
    try:
        data = yaml.safe_load((configdir / "globals.yml").read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def run_prechecks(configdir: Path, inventory: Path | None, engine_url: str,
                  upgrading: bool = False) -> int:
    """Every check, printed; 0 when all pass. ``upgrading``: the release may move forward."""
    inventory = inventory or project_root() / "ansible/inventory/all-in-one"
    groups = inventory_groups(inventory)
    checks: list[Callable[[], Result | list[Result]]] = [
        lambda: check_inventory(inventory, groups), lambda: check_globals(configdir),
        lambda: check_passwords(configdir),
        lambda: check_storage(groups, _overrides(configdir)), lambda: check_quorum(groups),
        lambda: check_database_proxy(groups),
        lambda: check_engine_release(engine_url, _overrides(configdir), upgrading)]
    results: list[Result] = []
    for run in checks:
        outcome = run()
        results += outcome if isinstance(outcome, list) else [outcome]
    for result in results:
        print(f"{'ok' if result.ok else 'FAIL':<5} {result.name:<10} {result.detail}")
    failed = list(dict.fromkeys(r.name for r in results if not r.ok))
    passed = sum(result.ok for result in results)
    print(f"prechecks: here, {passed} of {len(results)} passed"
          + (f"; fix: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
