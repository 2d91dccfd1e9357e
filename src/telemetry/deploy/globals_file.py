"""etc/telemetry/globals.yml: every Ansible option with its default, commented out, Kolla style.

The defaults live once, in ansible/group_vars/all/*.yml; this file is derived from them
(`python3 -m telemetry.deploy.globals_file > etc/telemetry/globals.yml`) and a unit test keeps
the shipped copy in step.
"""

from __future__ import annotations

import sys
from pathlib import Path

from telemetry.paths import project_root

SOURCES = ("ansible/group_vars/all/main.yml", "ansible/group_vars/all/deploy.yml")
HEADER = """\
# globals.yml: the operator's overrides, read by every telemetry-ansible action.
# Copy it to your config dir (default /etc/telemetry) and uncomment what you change; every line
# below shows an option and its default. Passwords are not here: see passwords.yml and
# telemetry-genpwd. Per-file overrides of the rendered configs go under <configdir>/config/
# (global.conf, <file>, <service>/<file>, <service>/<container>/<file>, <service>/<host>/<file>).
#
# Generated from ansible/group_vars/all/*.yml by: python3 -m telemetry.deploy.globals_file
"""


def commented(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.strip() in ("", "---"):
            lines.append("" if line.strip() == "" else None)
        elif line.lstrip().startswith("#"):
            lines.append(line)
        else:
            lines.append("#" + line)
    return "\n".join(line for line in lines if line is not None)


def render(root: Path) -> str:
    parts = [HEADER]
    for source in SOURCES:
        parts.append(f"\n########## from {source}\n")
        parts.append(commented((root / source).read_text()).strip("\n") + "\n")
    return "---\n" + "".join(parts)


def main() -> None:
    sys.stdout.write(render(project_root()))


if __name__ == "__main__":
    main()
