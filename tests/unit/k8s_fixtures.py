"""Shared helpers of the telemetry-k8s unit tests: fake passwords and a rendered project."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import yaml

from telemetry.k8s import operations
from telemetry.k8s.render import Rendered

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_KEYS = tuple(yaml.safe_load((ROOT / "etc" / "telemetry" / "passwords.yml").read_text()))


def fake_passwords() -> dict[str, str]:
    """A distinct letters-and-digits value per key, like telemetry-genpwd's."""
    return {key: "Fake" + hashlib.sha256(key.encode()).hexdigest()[:24] for key in PASSWORD_KEYS}


def write_passwords(directory: Path) -> Path:
    path = directory / "passwords.yml"
    path.write_text(yaml.safe_dump(fake_passwords()))
    return path


def project(**extra: Any) -> operations.Project:
    # ceilometer-compute is off by default: turned on here so its DaemonSet is checked too.
    return operations.load_project(ROOT, fake_passwords(),
                                   extra={"enable_ceilometer_compute": True, **extra})


@functools.cache
def rendered_all() -> tuple[Rendered, ...]:
    return tuple(operations.render_selection(project(), "all", ["all"]))
