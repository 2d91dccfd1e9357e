"""Images that know they are stale, for real: every built image carries its package list; an
image holding an older package than the mirror is reported by --check-updates, and --refresh
rebuilds exactly it and its children."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from telemetry.image.packages import installed_packages
from tests.conftest import IMAGE_TAG
from tests.functional.conftest import build

AGED = "gnocchi-base"
AGED_PACKAGE = "gnocchi-common"
OLD_VERSION = "0.0.1-1"
ENTRYPOINT = '["/usr/bin/tini", "--", "/usr/local/bin/telemetry_start"]'


def _reference(name: str) -> str:
    return f"telemetry/{name}:{IMAGE_TAG}"


@pytest.fixture(scope="module")
def aged(engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> str:
    """gnocchi-base as if built from an older snapshot: dpkg records an older gnocchi-common
    (the image is re-committed under its tag, labels kept, so its content hash still matches
    and a plain build would skip it forever)."""
    code, _, output = build(tmp_path_factory.mktemp("gnocchi"), "^gnocchi-")
    assert code == 0, output
    script = (f"sed -i '/^Package: {AGED_PACKAGE}$/,/^$/ s/^Version: .*/Version: {OLD_VERSION}/'"
              " /var/lib/dpkg/status")
    container = engine.containers.run(_reference(AGED), entrypoint=["sh", "-c", script],
                                      user="root", detach=True)
    assert container.wait()["StatusCode"] == 0
    container.commit(repository=f"telemetry/{AGED}", tag=IMAGE_TAG,
                     changes=[f"ENTRYPOINT {ENTRYPOINT}", "CMD []"])
    container.remove()
    return _reference(AGED)


def test_every_image_carries_its_package_list(engine: docker.DockerClient, aged: str,
                                              tmp_path: Path) -> None:
    packages = {p.name: p.version for p in installed_packages(engine, _reference("gnocchi-api"))}
    assert {"python3-gnocchi", "uwsgi-plugin-python3", "python3"} <= set(packages)
    assert len(packages) > 100
    code, _, output = build(tmp_path, "--list-images", "--packages", "^gnocchi-api$")
    assert code == 0, output
    assert f"telemetry/gnocchi-api:{IMAGE_TAG}:" in output and "uwsgi" in output


def test_check_updates_reports_the_stale_image_only(aged: str, tmp_path: Path) -> None:
    code, _, output = build(tmp_path, "--check-updates", "^gnocchi-")
    assert code == 0, output
    assert f"{AGED_PACKAGE:<32} {OLD_VERSION} -> " in output, output
    lines = {line.split("]", 1)[1].split()[0]: line for line in output.splitlines()
             if line.startswith("[")}
    assert "pending" in lines[AGED] and "up to date" in lines["gnocchi-api"], output


def test_refresh_rebuilds_the_stale_image_and_its_children(aged: str, tmp_path: Path) -> None:
    code, summary, output = build(tmp_path, "--refresh", "^gnocchi-")
    assert code == 0, output
    assert {AGED, "gnocchi-api", "gnocchi-metricd"} <= set(summary["built"]), output
    assert {"base", "openstack-base"} <= set(summary["skipped"]), output
    code, _, output = build(tmp_path, "--check-updates", f"^{AGED}$")
    assert code == 0 and "0 of 3 images have pending updates" in output, output
