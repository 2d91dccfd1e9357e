"""telemetry-genpwd: fill every empty key of passwords.yml with a strong random value.

Like kolla-genpwd: keys that already have a value are kept, so rerunning is safe. Keys of the
shipped template (etc/telemetry/passwords.yml) that the file lacks are added and filled, as
kolla-mergepwd does after an upgrade of the project brought a new secret. The file is
written atomically with mode 0600; a file readable by group or others gets a warning.
Exit codes: 0 done, 2 the file is missing or not a YAML mapping.
"""

from __future__ import annotations

import argparse
import os
import secrets
import stat
import string
import sys
import tempfile
from pathlib import Path

import yaml

from telemetry.common.errors import BadInput, run_cli
from telemetry.common.yaml_files import load_mapping
from telemetry.paths import DataDirNotFound, passwords_template, passwords_template_file

PROG = "telemetry-genpwd"
DEFAULT_PASSWORDS = Path("/etc/telemetry/passwords.yml")
_ALPHABET = string.ascii_letters + string.digits
# Values that end up in URLs (mysql+pymysql://user:PASSWORD@host, redis://:PASSWORD@host) and in
# INI files: letters and digits only, so no escaping is ever needed. 32 of them is ~190 bits.
_LENGTH = 32


class PasswordsFileError(BadInput):
    """passwords.yml is missing or malformed."""


def generate(length: int = _LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def fill(path: Path) -> list[str]:
    """Fill empty keys in place, and the template's keys the file lacks; return the names of
    the keys that were filled."""
    data = {**dict.fromkeys(template_keys()), **load(path)}
    filled = [key for key, value in data.items() if value in (None, "")]
    for key in filled:
        data[key] = generate()
    if filled:
        write_private(path, yaml.safe_dump(data, default_flow_style=False, sort_keys=True))
    return filled


def template_keys() -> list[str]:
    """The keys of the shipped passwords.yml (none when running without the project's data)."""
    try:
        template = passwords_template_file()
    except DataDirNotFound:
        return []
    return list(load_mapping(template, PasswordsFileError))


def load(path: Path) -> dict[str, object]:
    if not path.is_file():
        raise PasswordsFileError(f"{path} does not exist: copy {passwords_template()} there "
                                 "first")
    return load_mapping(path, PasswordsFileError)


def write_private(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def run(path: Path) -> int:
    filled = fill(path)
    if readable_by_others(path):
        print(f"{PROG}: warning: {path} is readable by group or others; run: chmod 0600 {path}",
              file=sys.stderr)
    print(f"{PROG}: filled {len(filled)} empty keys in {path}"
          + (f": {', '.join(filled)}" if filled else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Fill every empty key of passwords.yml with a random 32-character value. "
                    "Existing values are kept; values are never printed.")
    parser.add_argument("-p", "--passwords", type=Path, default=DEFAULT_PASSWORDS,
                        help=f"the passwords file (default {DEFAULT_PASSWORDS})")
    args = parser.parse_args(argv)
    return run_cli(PROG, lambda: run(args.passwords))


if __name__ == "__main__":
    sys.exit(main())
