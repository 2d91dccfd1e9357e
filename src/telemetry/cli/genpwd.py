"""telemetry-genpwd: fill every empty key of passwords.yml with a strong random value.

Like kolla-genpwd: keys that already have a value are kept, so rerunning is safe. The file is
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

DEFAULT_PASSWORDS = Path("/etc/telemetry/passwords.yml")
_ALPHABET = string.ascii_letters + string.digits
# Values that end up in URLs (mysql+pymysql://user:PASSWORD@host, redis://:PASSWORD@host) and in
# INI files: letters and digits only, so no escaping is ever needed. 32 of them is ~190 bits.
_LENGTH = 32


class PasswordsFileError(RuntimeError):
    """passwords.yml is missing or malformed."""


def generate(length: int = _LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def fill(path: Path) -> list[str]:
    """Fill empty keys in place; return the names of the keys that were filled."""
    data = load(path)
    filled = [key for key, value in data.items() if value in (None, "")]
    for key in filled:
        data[key] = generate()
    if filled:
        write_private(path, yaml.safe_dump(data, default_flow_style=False, sort_keys=True))
    return filled


def load(path: Path) -> dict[str, object]:
    if not path.is_file():
        raise PasswordsFileError(f"{path} does not exist: copy etc/telemetry/passwords.yml from "
                                 f"the checkout there first")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PasswordsFileError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PasswordsFileError(f"{path} must be a mapping of key: value")
    return data


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="telemetry-genpwd",
        description="Fill every empty key of passwords.yml with a random 32-character value. "
                    "Existing values are kept; values are never printed.")
    parser.add_argument("-p", "--passwords", type=Path, default=DEFAULT_PASSWORDS,
                        help=f"the passwords file (default {DEFAULT_PASSWORDS})")
    args = parser.parse_args(argv)
    try:
        filled = fill(args.passwords)
    except PasswordsFileError as exc:
        print(f"telemetry-genpwd: error: {exc}", file=sys.stderr)
        return 2
    if readable_by_others(args.passwords):
        print(f"telemetry-genpwd: warning: {args.passwords} is readable by group or others; "
              f"run: chmod 0600 {args.passwords}", file=sys.stderr)
    print(f"telemetry-genpwd: filled {len(filled)} empty keys in {args.passwords}"
          + (f": {', '.join(filled)}" if filled else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
