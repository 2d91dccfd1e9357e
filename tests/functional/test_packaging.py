"""`pip install <checkout>` (not editable) into a clean venv gives CLIs that work.

No container engine is used: prechecks get an engine URL nothing answers at (so nothing starts
podman), and the Kubernetes actions are the two that need no cluster. Needs the package index
(the install resolves every dependency); about 40 s with a warm pip cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IMAGE_TAG, ROOT

# What a checkout holds that is not the project (and would only slow the copy down).
_NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", ".tox", "build", "dist", "build-logs",
                                     "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache")


@dataclass(frozen=True)
class Installed:
    bin: Path
    prefix: Path
    work: Path

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        # A neutral cwd and no TELEMETRY_* variables: the install must find its data by itself.
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("TELEMETRY_") and key != "KUBECONFIG"}
        result = subprocess.run([str(self.bin / command), *args], capture_output=True,
                                text=True, cwd=self.work, env=env, timeout=600, check=False)
        assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
        return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("packaging")
    # pip builds in the source tree (build/, *.egg-info): a copy keeps the checkout clean, and
    # symlinks=True keeps ansible/module_utils/telemetry_common a link, as in git.
    source = base / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(source)],
                             capture_output=True, text=True, timeout=1800, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    work = base / "work"
    work.mkdir()
    yield Installed(venv / "bin", venv, work)


@pytest.fixture(scope="module")
def configdir(installed: Installed) -> Path:
    """A config dir with a passwords.yml copied from the install and filled by telemetry-genpwd."""
    configdir = installed.work / "etc-telemetry"
    configdir.mkdir()
    shutil.copy(installed.prefix / "share/telemetry/etc/telemetry/passwords.yml", configdir)
    result = installed.run("telemetry-genpwd", "-p", str(configdir / "passwords.yml"))
    assert result.returncode == 0, result.stderr
    return configdir


def test_the_data_trees_are_installed(installed: Installed) -> None:
    share = installed.prefix / "share" / "telemetry"
    result = installed.run("python", "-c", "from telemetry.paths import project_root; "
                                           "print(project_root())")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == share
    for relative in ("ansible/deploy.yml", "ansible/library/telemetry_container.py",
                     "ansible/module_utils/telemetry_common/engine.py",
                     "kolla_images/base/Dockerfile.j2", "kubernetes/globals.yml",
                     "services/common/deployment.yml.j2", "etc/telemetry/passwords.yml",
                     "src/telemetry/catalog/services.yml", "setup.cfg"):
        assert (share / relative).is_file(), relative


@pytest.mark.parametrize("command", ["telemetry-build", "telemetry-ansible", "telemetry-genpwd",
                                     "telemetry-k8s"])
def test_help(installed: Installed, command: str) -> None:
    result = installed.run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


def test_build_lists_images(installed: Installed) -> None:
    result = installed.run("telemetry-build", "--list-images")
    assert result.returncode == 0, result.stderr
    assert f"telemetry/toolbox:{IMAGE_TAG}" in result.stdout


def test_ansible_prechecks_run(installed: Installed, configdir: Path) -> None:
    # Runs ansible-inventory of the venv; the engine check fails (nothing answers there).
    result = installed.run("telemetry-ansible", "prechecks", "--configdir", str(configdir),
                           "--engine-url", f"unix://{installed.work}/no-engine.sock")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "ok    inventory" in result.stdout, result.stdout
    assert "ok    passwords" in result.stdout, result.stdout
    assert "prechecks:" in result.stdout


def test_k8s_template_and_validate(installed: Installed, configdir: Path) -> None:
    passwords = str(configdir / "passwords.yml")
    template = installed.run("telemetry-k8s", "resource", "template", "all", "all",
                             "--passwords", passwords)
    assert template.returncode == 0, template.stderr
    assert "kind: Deployment" in template.stdout
    validate = installed.run("telemetry-k8s", "resource", "validate", "all", "all",
                             "--passwords", passwords)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert " 0 problem(s)" in validate.stdout
