"""Shared fixtures: the checkout's root and a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    return ROOT


def run_cli(module: str, *args: str, timeout: int = 3600,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run one of our CLIs as a user would, in a separate process."""
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=ROOT, env=env)
