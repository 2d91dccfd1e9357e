from __future__ import annotations

import pytest

from telemetry.catalog import load_catalog
from telemetry.image.tree import SelectionError, dependency_tree, select_images


def test_regex_pulls_in_ancestors_in_parent_first_order() -> None:
    order = select_images(load_catalog(), ["^gnocchi-api$"], None)
    assert order == ["base", "openstack-base", "gnocchi-base", "gnocchi-api"]


def test_profile_selects_its_images() -> None:
    order = select_images(load_catalog(), [], "infra")
    assert "keystone" in order and "openstack-base" in order
    assert "gnocchi-api" not in order
    assert order.index("base") < order.index("openstack-base") < order.index("keystone")


def test_every_image_comes_after_its_parent() -> None:
    catalog = load_catalog()
    order = select_images(catalog, [".*"], None)
    for position, name in enumerate(order):
        parent = catalog.images[name].parent
        assert parent is None or order.index(parent) < position


def test_unknown_regex_and_profile_list_what_is_known() -> None:
    with pytest.raises(SelectionError, match=r"matches no image; known images: aodh-api, "):
        select_images(load_catalog(), ["^nova"], None)
    with pytest.raises(SelectionError, match=r"unknown profile 'full'; known profiles: default, "
                                             r"infra, telemetry"):
        select_images(load_catalog(), [], "full")


def test_dependency_tree_nests_children() -> None:
    catalog = load_catalog()
    tree = dependency_tree(catalog, select_images(catalog, ["aodh"], None))
    assert tree == {"base": {"openstack-base": {"aodh-base": {
        "aodh-api": {}, "aodh-evaluator": {}, "aodh-listener": {}, "aodh-notifier": {}}}}}
