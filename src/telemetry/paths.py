"""Where the project's data trees (kolla_images/, ansible/, kubernetes/, services/, etc/) live.

The CLIs run from a checkout (an editable install finds it above this file) or from a wheel:
``pip install <checkout>`` installs the trees as data files under ``<prefix>/share/telemetry``
(setup.py lists them), with the sources the images are built from. ``TELEMETRY_HOME`` overrides
both.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from telemetry.common.errors import BadInput

_MARKER = "kolla_images"


class DataDirNotFound(BadInput):
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
        f"cannot find the project's data (a directory with kolla_images/) above {__file__} or "
        f"in {Path(sys.prefix) / 'share' / 'telemetry'}: set TELEMETRY_HOME to a checkout, or "
        "reinstall from one (pip install <checkout>, or pip install -e <checkout>)")


def passwords_template_file() -> Path:
    """The empty passwords.yml shipped with the project (DataDirNotFound without its data)."""
    return project_root() / "etc" / "telemetry" / "passwords.yml"


def passwords_template() -> str:
    """The empty passwords.yml an operator copies into place, for messages that say so."""
    try:
        return str(passwords_template_file())
    except DataDirNotFound:
        return "etc/telemetry/passwords.yml of the checkout"


def images_dir() -> Path:
    return project_root() / "kolla_images"
