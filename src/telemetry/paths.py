"""Where the project's data trees (kolla_images/, ansible/, kubernetes/, services/) live.

The CLIs run from a checkout (editable install, the supported way) or from an install that put
the trees under ``<prefix>/share/telemetry``. ``TELEMETRY_HOME`` overrides both.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_MARKER = "kolla_images"


class DataDirNotFound(RuntimeError):
    """No directory holding kolla_images/ could be found."""


def project_root() -> Path:
    override = os.environ.get("TELEMETRY_HOME")
    candidates = [Path(override)] if override else []
    candidates += list(Path(__file__).resolve().parents)
    candidates.append(Path(sys.prefix) / "share" / "telemetry")
    for candidate in candidates:
        if (candidate / _MARKER).is_dir():
            return candidate
    raise DataDirNotFound(
        "cannot find the project's data (a directory with kolla_images/): set TELEMETRY_HOME "
        "to the checkout, or install with `pip install -e <checkout>`")


def images_dir() -> Path:
    return project_root() / "kolla_images"
