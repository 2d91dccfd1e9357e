"""What is installed in built images, and which of it has updates waiting on the mirror.

Every image carries the list of its installed packages (render.PACKAGES_FILE, written by its
last build step). --check-updates asks apt inside each image, as root and without changing it,
which packages the mirror has newer versions of (security ones marked); --refresh rebuilds
those images and their children: the content hash ignores package versions, so nothing else
would ever rebuild an image that only went stale.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker
import docker.errors

from telemetry.common.errors import ActionFailed
from telemetry.image.render import PACKAGES_FILE

# apt-get -s prints one line per package it would upgrade:
#   Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian:12.7/stable, Debian-Security:12/... [amd64])
_INST = re.compile(r"^Inst (?P<name>\S+) \[(?P<installed>[^\]]+)\] \((?P<candidate>\S+) "
                   r"(?P<origins>[^\[)]*)")
_SIMULATE = ("apt-get update -qq >/dev/null 2>&1 || { echo 'apt-get update failed' >&2; "
             "exit 3; }; apt-get -s -o Debug::NoLocking=1 dist-upgrade")


class ImageMissing(ActionFailed):
    """An image asked about is not built on this host."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str


@dataclass(frozen=True)
class PendingUpdate:
    package: str
    installed: str
    candidate: str
    security: bool


@dataclass(frozen=True)
class ImageUpdates:
    image: str
    reference: str
    updates: tuple[PendingUpdate, ...]

    @property
    def security_count(self) -> int:
        return sum(update.security for update in self.updates)


def parse_packages(text: str) -> list[Package]:
    packages = []
    for line in text.splitlines():
        name, _, version = line.partition("\t")
        if name and version:
            packages.append(Package(name, version))
    return packages


def parse_simulation(text: str) -> list[PendingUpdate]:
    updates = []
    for line in text.splitlines():
        match = _INST.match(line)
        if match:
            updates.append(PendingUpdate(
                package=match["name"], installed=match["installed"],
                candidate=match["candidate"],
                security="security" in match["origins"].lower()))
    return updates


def _run(client: docker.DockerClient, reference: str, script: str) -> str:
    """The script's stdout in a throwaway container of the image, run as root.

    Detached, then waited for and read: a plain `run(remove=True)` through podman's Docker API
    can hand back only the first line of the output."""
    try:
        container = client.containers.run(reference, entrypoint=["sh", "-c", script],
                                          user="root", detach=True)
    except docker.errors.ImageNotFound:
        raise ImageMissing(f"{reference} is not built here: run telemetry-build first") from None
    try:
        status = container.wait()["StatusCode"]
        output = container.logs(stdout=True, stderr=False).decode(errors="replace")
    finally:
        container.remove(force=True)
    if status != 0:
        raise ActionFailed(f"{reference}: `{script.split(';')[0]}` failed in the image "
                           f"(exit {status})")
    return output


def installed_packages(client: docker.DockerClient, reference: str) -> list[Package]:
    return parse_packages(_run(client, reference, f"cat {PACKAGES_FILE}"))


def pending_updates(client: docker.DockerClient, image: str, reference: str) -> ImageUpdates:
    updates = parse_simulation(_run(client, reference, _SIMULATE))
    return ImageUpdates(image=image, reference=reference, updates=tuple(updates))


def check_images(client: docker.DockerClient, references: Mapping[str, str], threads: int,
                 on_done: Callable[[ImageUpdates, float], None]) -> list[ImageUpdates]:
    """Every image's pending updates, `threads` at a time, in the order given."""

    started = time.monotonic()

    def one(name: str) -> ImageUpdates:
        result = pending_updates(client, name, references[name])
        on_done(result, time.monotonic() - started)
        return result

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, references))


def with_descendants(names: Iterable[str], parents: Mapping[str, str | None]) -> set[str]:
    """The images named and every image below them."""
    chosen = set(names)
    changed = True
    while changed:
        changed = False
        for image, parent in parents.items():
            if parent in chosen and image not in chosen:
                chosen.add(image)
                changed = True
    return chosen
