"""Where a deployment stands between releases, and what `telemetry-ansible upgrade` will do.

The release of what runs is read from the containers' images (the catalog's RELEASE_LABEL), the
wanted one from globals.yml (telemetry_base_release). `release_problem` is the prechecks' rule:
deploy keeps a release, upgrade moves to the next one the catalog allows (`upgrade_from`), and
nothing goes back. `upgrade_plan` is what `upgrade --check` prints: per container, the image it
changes to and the steps the playbook runs (ansible/roles/service/tasks/container.yml), taken
from the same catalog entries; it reads the engine and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import docker.errors

from telemetry.catalog import RELEASE_LABEL, Catalog, Container, Release
from telemetry.deploy.stack import deployed_containers


@dataclass(frozen=True)
class RunningContainer:
    name: str
    service: str
    image: str           # the reference it was created from, e.g. telemetry/keystone:zed
    image_id: str
    release: Release | None  # None: its image carries no (known) release label


@dataclass(frozen=True)
class ContainerPlan:
    name: str
    service: str
    running_image: str
    wanted_image: str
    steps: tuple[str, ...]  # empty: left as it is

    @property
    def changes(self) -> bool:
        return bool(self.steps)


@dataclass(frozen=True)
class UpgradePlan:
    sources: tuple[Release, ...]  # the releases found running
    target: Release
    containers: tuple[ContainerPlan, ...]
    missing_images: tuple[str, ...]


@dataclass(frozen=True)
class HostRelease:
    """This host's containers against the wanted release: the prechecks' and
    `upgrade --check`'s one reading of the engine."""
    target: Release
    running: tuple[RunningContainer, ...]
    problem: str | None   # why the action must not run (release_problem), or None
    plan: UpgradePlan | None  # when upgrading and nothing refuses it


def host_release(client: Any, catalog: Catalog, target: Release,
                 upgrading: bool) -> HostRelease:
    """Read the running containers, apply the release rule and, for an upgrade it allows,
    plan it (the wanted images looked up on this host)."""
    running = running_containers(client, catalog)
    problem = release_problem(catalog, running, target, upgrading)
    plan = upgrade_plan(catalog, running, target, wanted_image_ids(client, running, target)) \
        if upgrading and problem is None else None
    return HostRelease(target=target, running=tuple(running), problem=problem, plan=plan)


def running_containers(client: Any, catalog: Catalog) -> list[RunningContainer]:
    """This host's telemetry containers, dependencies first, with their images' release."""
    by_openstack = {release.openstack: release for release in catalog.releases.values()}
    found = []
    for item in deployed_containers(client, catalog):
        image_id = item.container.attrs.get("Image", "")
        labels = _image_labels(client, image_id)
        found.append(RunningContainer(
            name=item.container.name, service=item.service,
            image=(item.container.attrs.get("Config") or {}).get("Image", ""),
            image_id=image_id, release=by_openstack.get(labels.get(RELEASE_LABEL, ""))))
    return found


def _image_labels(client: Any, image_id: str) -> dict[str, str]:
    try:
        return dict(client.images.get(image_id).labels or {})
    except docker.errors.ImageNotFound:  # removed under it: its release is unknown
        return {}


def deployed_releases(running: list[RunningContainer]) -> list[Release]:
    """The releases what runs was built for, oldest first as the catalog lists them."""
    seen: dict[str, Release] = {}
    for container in running:
        if container.release is not None:
            seen[container.release.name] = container.release
    return list(seen.values())


def release_problem(catalog: Catalog, running: list[RunningContainer], target: Release,
                    upgrading: bool) -> str | None:
    """Why deploy (upgrading=False) or upgrade must not run against what runs, or None."""
    order = list(catalog.releases)
    deployed = sorted(deployed_releases(running), key=lambda r: order.index(r.name))
    newer = [r for r in deployed if order.index(r.name) > order.index(target.name)]
    if newer:
        return (f"containers here run OpenStack {_names(newer)} and telemetry_base_release "
                f"{target.name} would take them back to {target.openstack}: a downgrade is not "
                f"possible (the databases were migrated forward). Set telemetry_base_release: "
                f"{newer[-1].name} in globals.yml, or restore the backup taken before the upgrade")
    older = [r for r in deployed if r.name != target.name]
    if not older:
        return None
    if not upgrading:
        return (f"containers here run OpenStack {_names(older)} and globals.yml asks for "
                f"{target.openstack} ({target.name}): run telemetry-ansible upgrade to move "
                f"them, or set telemetry_base_release: {older[0].name} to stay")
    unsupported = [r for r in older if r.name not in target.upgrade_from]
    if unsupported:
        steps = [name for name in order
                 if unsupported[0].name in catalog.releases[name].upgrade_from]
        via = (f"upgrade to {steps[0]} first (telemetry_base_release: {steps[0]})" if steps
               else "no release of the catalog upgrades from it")
        return (f"cannot upgrade OpenStack {_names(unsupported)} to {target.openstack} in one "
                f"step ({target.name} upgrades from: {', '.join(target.upgrade_from) or 'none'})"
                f": {via}")
    return None


def _names(releases: list[Release]) -> str:
    return ", ".join(f"{r.openstack} ({r.name})" for r in releases)


def upgrade_plan(catalog: Catalog, running: list[RunningContainer], target: Release,
                 image_ids: dict[str, str | None]) -> UpgradePlan:
    """What upgrade does to each running container. ``image_ids`` maps each wanted image
    reference to its ID on this host (None: missing)."""
    plans = []
    for container in running:
        entry = catalog_entry(catalog, container.name)
        wanted = wanted_image(container.image, target)
        plans.append(ContainerPlan(
            name=container.name, service=container.service, running_image=container.image,
            wanted_image=wanted,
            steps=_steps(entry, container, target, image_ids.get(wanted))))
    missing = tuple(sorted({p.wanted_image for p in plans
                            if image_ids.get(p.wanted_image) is None}))
    return UpgradePlan(sources=tuple(deployed_releases(running)), target=target,
                       containers=tuple(plans), missing_images=missing)


def wanted_image_ids(client: Any, running: list[RunningContainer],
                     target: Release) -> dict[str, str | None]:
    """The ID on this host of each image the running containers would move to (None: absent)."""
    ids: dict[str, str | None] = {}
    for container in running:
        reference = wanted_image(container.image, target)
        if reference not in ids:
            ids[reference] = _image_id(client, reference)
    return ids


def _image_id(client: Any, reference: str) -> str | None:
    try:
        return client.images.get(reference).id
    except docker.errors.ImageNotFound:
        return None


def catalog_entry(catalog: Catalog, name: str) -> Container | None:
    """The catalog container a running one is an instance of (gnocchi-api-2 -> gnocchi-api)."""
    return catalog.container(name) or catalog.container(name.rsplit("-", 1)[0])


def wanted_image(running_image: str, target: Release) -> str:
    """The same repository at the target release's tag."""
    repository = running_image.rsplit(":", 1)[0] if ":" in running_image.split("/")[-1] \
        else running_image
    return f"{repository}:{target.tag}"


def _steps(entry: Container | None, container: RunningContainer, target: Release,
           wanted_id: str | None) -> tuple[str, ...]:
    if wanted_id is None:
        return ("image missing",)
    if wanted_id == container.image_id:
        return ()
    steps = []
    upgrade = entry.upgrade if entry else None
    release_changes = container.release is None or container.release.name != target.name
    if upgrade and release_changes and upgrade.drain:
        steps.append("drain")
    if upgrade and release_changes and upgrade.reset_state:
        steps.append(f"reset {upgrade.reset_state}")
    if entry and entry.bootstrap and entry.name == container.name:
        steps.append(f"migrate: {entry.bootstrap}")
    steps.append("recreate")
    if upgrade and upgrade.finalize:
        steps.append(f"finalize: {upgrade.finalize}")
    return tuple(steps)


def format_plan(plan: UpgradePlan) -> str:
    sources = _names(list(plan.sources)) or "nothing deployed"
    rows = [("service", "container", "image now", "image after", "steps")]
    rows += [(item.service, item.name, _short(item.running_image), _short(item.wanted_image),
              "; ".join(item.steps) or "unchanged") for item in plan.containers]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [f"upgrade plan for this host: {sources} -> {plan.target.openstack} "
             f"({plan.target.name})"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
              + "  " + row[4] for row in rows]
    changing = [p for p in plan.containers if p.changes and p.steps != ("image missing",)]
    migrating = [p for p in changing if any(s.startswith("migrate") for s in p.steps)]
    lines.append(f"{len(changing)} of {len(plan.containers)} containers change image, "
                 f"{len(migrating)} migrate a database; nothing was changed (--check)")
    if plan.missing_images:
        lines.append(f"missing here: {', '.join(plan.missing_images)}: build them with "
                     f"telemetry-build --base-release {plan.target.name} (or load them)")
    return "\n".join(lines)


def _short(reference: str) -> str:
    """Docker Hub's implicit prefix, which podman spells out, is noise in a table."""
    return reference.removeprefix("docker.io/")
