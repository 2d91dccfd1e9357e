"""Shared fixtures: the checkout's root, a CLI runner and a loader for Ansible plugin files."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from telemetry.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
# The tag telemetry-build gives images by default: the default release's OpenStack release.
IMAGE_TAG = load_catalog().release(None).tag


@pytest.fixture
def root() -> Path:
    return ROOT


def run_cli(module: str, *args: str, timeout: int = 3600,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run one of our CLIs as a user would, in a separate process."""
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=ROOT, env=env)


def load_ansible_file(relative: str, name: str) -> ModuleType:
    """Import one of ansible/'s plugin or module files (they are not a package)."""
    _add_module_utils()
    spec = importlib.util.spec_from_file_location(name, ROOT / "ansible" / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _add_module_utils() -> None:
    """Our modules import ansible.module_utils.telemetry_common; Ansible bundles it from
    ansible/module_utils when it ships a module, an in-process import needs the path added."""
    import ansible.module_utils

    path = str(ROOT / "ansible" / "module_utils")
    if path not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(path)
