"""The image tree: selection by regex or profile, ordering, descendants."""

from __future__ import annotations

import re
from collections.abc import Iterable

from telemetry.catalog import Catalog
from telemetry.common.errors import BadInput


class SelectionError(BadInput):
    """A regex or profile matched nothing; the message lists what is known."""


def select_images(catalog: Catalog, regexes: Iterable[str], profile: str | None) -> list[str]:
    """Names to build, parents first: matches of the regexes or profile plus their ancestors."""
    known = sorted(catalog.images)
    wanted: set[str] = set()
    if profile:
        if profile not in catalog.profiles:
            raise SelectionError(f"unknown profile {profile!r}; known profiles: "
                                 f"{', '.join(sorted(catalog.profiles))}")
        wanted.update(catalog.profiles[profile])
    for pattern in regexes:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise SelectionError(f"invalid regex {pattern!r}: {exc}") from exc
        matches = {name for name in known if compiled.search(name)}
        if not matches:
            raise SelectionError(f"regex {pattern!r} matches no image; known images: "
                                 f"{', '.join(known)}")
        wanted |= matches
    if not wanted:
        wanted = set(catalog.profiles.get("default", known))
    for name in list(wanted):
        wanted.update(ancestors(catalog, name))
    return topological_order(catalog, wanted)


def ancestors(catalog: Catalog, name: str) -> list[str]:
    chain = []
    parent = catalog.images[name].parent
    while parent is not None:
        chain.append(parent)
        parent = catalog.images[parent].parent
    return chain


def topological_order(catalog: Catalog, names: Iterable[str]) -> list[str]:
    """Parents before children; siblings by name, so output is stable."""
    names = set(names)
    return sorted(names, key=lambda n: (len(ancestors(catalog, n)), n))


def children(catalog: Catalog, names: Iterable[str]) -> dict[str, list[str]]:
    selected = set(names)
    tree: dict[str, list[str]] = {name: [] for name in selected}
    for name in sorted(selected):
        parent = catalog.images[name].parent
        if parent in selected:
            tree[parent].append(name)
    return tree


def dependency_tree(catalog: Catalog, names: Iterable[str]) -> dict[str, dict]:
    """Nested {image: {child: {...}}} for --list-dependencies."""
    kids = children(catalog, names)

    def subtree(name: str) -> dict:
        return {child: subtree(child) for child in kids[name]}

    roots = [n for n in kids if catalog.images[n].parent not in kids]
    return {root: subtree(root) for root in sorted(roots)}
