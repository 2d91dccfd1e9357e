"""etc/telemetry/globals.yml: every Ansible option with its default, commented out, Kolla style.

The defaults live once, in the catalog (the values it derives: ports, database names, service
users, enable_<container> switches) and in ansible/group_vars/all/*.yml; this file is generated
from both (`python3 -m telemetry.deploy.globals_file > etc/telemetry/globals.yml`) and a unit
test keeps the shipped copy in step.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from telemetry.catalog import catalog_variables, load_catalog
from telemetry.paths import project_root

SOURCES = ("ansible/group_vars/all/main.yml", "ansible/group_vars/all/deploy.yml")
HEADER = """\
# globals.yml: the operator's overrides, read by every telemetry-ansible action.
# Copy it to your config dir (default /etc/telemetry) and uncomment what you change; every line
# below shows an option and its default. Passwords are not here: see passwords.yml and
# telemetry-genpwd. Per-file overrides of the rendered configs go under <configdir>/config/
# (global.conf, <file>, <service>/<file>, <service>/<container>/<file>, <service>/<host>/<file>).
#
# Generated from the catalog and ansible/group_vars/all/*.yml by:
#   python3 -m telemetry.deploy.globals_file > etc/telemetry/globals.yml
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


# Derived values that are the catalog's business, not an operator's knob.
_NOT_OPTIONS = ("telemetry_service_order", "telemetry_release_label")


def catalog_defaults() -> str:
    """The catalog's derived defaults as commented YAML lines, one per option."""
    values = catalog_variables(load_catalog())
    lines = ["# Derived from src/telemetry/catalog/services.yml: every port (NAME_port), database",
             "# name and user, service user, and the enable_<container> switches."]
    for key, value in values.items():
        if key not in _NOT_OPTIONS:
            dumped = yaml.safe_dump({key: value}, default_flow_style=True, width=1000).strip()
            lines.append("#" + dumped.removeprefix("{").removesuffix("}"))
    return "\n".join(lines) + "\n"


def render(root: Path) -> str:
    parts = [HEADER, "\n########## from the catalog\n", catalog_defaults()]
    for source in SOURCES:
        parts.append(f"\n########## from {source}\n")
        parts.append(commented((root / source).read_text()).strip("\n") + "\n")
    return "---\n" + "".join(parts)


def main() -> None:
    sys.stdout.write(render(project_root()))


if __name__ == "__main__":
    main()
