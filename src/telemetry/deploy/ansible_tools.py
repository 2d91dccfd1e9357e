"""Where telemetry-ansible finds ansible-playbook and ansible-inventory.

Only next to the Python running telemetry-ansible: the controller-side plugins (the action plugin,
filters, lookups) import this package, so an ansible-playbook of another Python would fail in
the middle of a play instead of up front.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

from telemetry.common.errors import BadInput


def ansible_tool(name: str) -> str:
    """The path of an ansible-core command installed for this Python, or BadInput."""
    for directory in _script_dirs():
        found = shutil.which(name, path=str(directory))
        if found:
            return found
    raise BadInput(f"{name} is not installed next to {sys.executable}: install ansible-core "
                   f"into that Python ({sys.executable} -m pip install 'ansible-core>=2.19'); "
                   "its plugins import this package, so another Python's Ansible cannot run them")


def _script_dirs() -> list[Path]:
    # A venv puts scripts beside its python; `pip install --user` puts them in the scheme's
    # scripts directory instead, while sys.executable stays the system one.
    directories = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    return list(dict.fromkeys(directories))
