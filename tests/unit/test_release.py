"""The base release: one choice (telemetry-build --base-release, telemetry_base_release in
globals) that goes into every image's content hash and tag, so both releases' images live side
by side, and that the deploy engines follow."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from telemetry.catalog import CatalogError, default_catalog_path, load_catalog, parse_catalog
from telemetry.common.errors import BadInput
from telemetry.deploy.prechecks import check_globals
from telemetry.k8s import operations
from tests.conftest import run_cli
from tests.unit.k8s_fixtures import project

CLI = "telemetry.cli.build"


def _listed(*args: str) -> dict[str, list[str]]:
    result = run_cli(CLI, "--list-images", *args)
    assert result.returncode == 0, result.stderr
    return {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}


def test_each_release_tags_and_hashes_every_image_apart() -> None:
    zed, flamingo = _listed("--base-release", "bookworm"), _listed()
    assert set(zed) == set(flamingo)
    for name in zed:
        assert zed[name][3].endswith(":zed") and flamingo[name][3].endswith(":2025.1")
        assert zed[name][2] != flamingo[name][2], f"{name}: the release is in its content hash"
        assert flamingo[name][4:] == ["trixie", "(2025.1)"], "trixie is the default"
        assert zed[name][4:] == ["bookworm", "(zed)"]


def test_an_explicit_tag_still_wins() -> None:
    assert _listed("--base-release", "trixie", "--tag", "mine", "redis")["redis"][3] == (
        "telemetry/redis:mine")


def test_an_unknown_release_is_bad_input_naming_the_known_ones() -> None:
    result = run_cli(CLI, "--list-images", "--base-release", "sid")
    assert result.returncode == 2
    assert "unknown base release 'sid'; known: bookworm, trixie" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(BadInput):
        load_catalog().release("sid")


def test_the_catalog_default_release_must_be_one_of_its_releases() -> None:
    raw = yaml.safe_load(default_catalog_path().read_text())
    broken = copy.deepcopy(raw)
    broken["default_release"] = "buster"
    with pytest.raises(CatalogError, match="'default_release' names 'buster'"):
        parse_catalog(broken)


def test_kubernetes_images_follow_telemetry_base_release() -> None:
    for release, tag in (("trixie", "2025.1"), ("bookworm", "zed")):
        rendered = operations.render_selection(project(telemetry_base_release=release), "pod",
                                               ["gnocchi"])
        images = {c["image"] for r in rendered for d in r.documents
                  for c in d["spec"]["template"]["spec"]["containers"]}
        assert images == {f"telemetry/gnocchi-api:{tag}", f"telemetry/gnocchi-metricd:{tag}"}


def test_prechecks_refuse_a_release_without_images(tmp_path: Path) -> None:
    (tmp_path / "globals.yml").write_text("telemetry_base_release: bullseye\n")
    result = check_globals(tmp_path)
    assert not result.ok and "telemetry_base_release 'bullseye'" in result.detail
