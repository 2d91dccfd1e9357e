#!/usr/bin/env python3
"""Keystone's fernet and credential key repositories, the same on every keystone; installed in
the keystone image as /usr/local/bin/telemetry_keystone_keys.

Self-contained and stdlib only, like telemetry_set_configs: it runs inside the image.

Every key is derived from one secret the deployment shares with every keystone (passwords.yml's
``keystone_key_secret``) and from the clock: key(purpose, n) = urlsafe-base64(HMAC-SHA256(secret,
"purpose:n")), a valid Fernet key. So every keystone holds the same keys without copying them
between hosts, a keystone that was down has the right keys the moment it starts, and rotation
needs no leader: Kolla-Ansible rotates on one node and pushes over SSH (keystone-ssh), which
breaks when that node is the one lost. A leaked key file is still useless once its key leaves
the repository; the secret itself is as sensitive as passwords.yml, where it lives.

Fernet keys rotate every ``rotation_interval`` seconds. At epoch e = floor(now / interval) the
repository holds, as keystone's own fernet_rotate would leave it:
  0        the staged key, key(fernet, e + 1): the next primary, which every keystone already
           accepts, so a keystone that rotated first issues tokens the others validate;
  e + 1    the primary, key(fernet, e), signing new tokens (keystone takes the highest name);
  e .. e - (max_active_keys - 3)   secondaries: tokens they signed still validate.
Credential keys do not rotate (keystone would have to re-encrypt every credential,
keystone-manage credential_migrate): 1 is the primary, 0 the staged key.

Every file is written atomically (a temporary file renamed over it) and new keys land before old
ones leave, so a keystone reading the repository meanwhile sees every key it needs.

The config file (JSON, 0600, rendered by the deployment)::

    {"secret": "...", "rotation_interval": 86400, "max_active_keys": 5,
     "fernet_dir": "/etc/keystone/fernet-keys", "credential_dir": "/etc/keystone/credential-keys"}

Usage:
    telemetry_keystone_keys CONFIG            the keys of now, in both repositories
    telemetry_keystone_keys CONFIG --at SECONDS   the keys of that time (tests, planning)

It prints one line when it changed a repository, never a key. Exit codes:
    0   the repositories hold the keys of that time
    2   the config file is missing, not JSON or not in the format above
    7   a repository could not be read or written (not its owner, missing directory)
    64  bad command-line usage
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

_FIELDS = {"secret": str, "rotation_interval": int, "max_active_keys": int,
           "fernet_dir": str, "credential_dir": str}
# A repository keystone can use: staged, primary and at least one secondary.
_MIN_ACTIVE_KEYS = 3
_MIN_SECRET_LENGTH = 16
EXIT_USAGE = 64


class KeysError(Exception):
    exit_code = 1


class ConfigError(KeysError):
    exit_code = 2


class RepositoryError(KeysError):
    exit_code = 7


@dataclass(frozen=True)
class KeyConfig:
    secret: str
    rotation_interval: int
    max_active_keys: int
    fernet_dir: str
    credential_dir: str


def derive(secret: str, purpose: str, number: int) -> str:
    """The Fernet key (32 bytes, urlsafe base64) of `purpose` number `number`."""
    digest = hmac.new(secret.encode(), f"{purpose}:{number}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def fernet_keys(config: KeyConfig, now: float) -> dict[str, str]:
    """File name -> key of the fernet repository at time `now`."""
    epoch = int(now // config.rotation_interval)
    keys = {"0": derive(config.secret, "fernet", epoch + 1)}
    for age in range(config.max_active_keys - 1):
        keys[str(epoch - age + 1)] = derive(config.secret, "fernet", epoch - age)
    return keys


def credential_keys(config: KeyConfig) -> dict[str, str]:
    return {"0": derive(config.secret, "credential", 0),
            "1": derive(config.secret, "credential", 1)}


def load_config(path: str) -> KeyConfig:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(f"{path} is not JSON: {error}") from None
    return _validated(path, raw)


def _validated(path: str, raw: Any) -> KeyConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path} must hold a JSON object with {', '.join(_FIELDS)}")
    unknown = sorted(set(raw) - set(_FIELDS))
    missing = sorted(set(_FIELDS) - set(raw))
    if unknown or missing:
        raise ConfigError(f"{path}: unknown keys {unknown}, missing keys {missing}")
    for name, kind in _FIELDS.items():
        if not isinstance(raw[name], kind) or isinstance(raw[name], bool):
            raise ConfigError(f"{path}: {name} must be a {kind.__name__}")
    if len(raw["secret"]) < _MIN_SECRET_LENGTH:
        raise ConfigError(f"{path}: the secret is shorter than {_MIN_SECRET_LENGTH} characters: "
                          "fill keystone_key_secret in passwords.yml with telemetry-genpwd")
    if raw["rotation_interval"] < 1:
        raise ConfigError(f"{path}: rotation_interval must be at least 1 second")
    if raw["max_active_keys"] < _MIN_ACTIVE_KEYS:
        raise ConfigError(f"{path}: max_active_keys must be at least {_MIN_ACTIVE_KEYS} "
                          "(staged, primary and one secondary)")
    return KeyConfig(**raw)


def _key_files(directory: str) -> dict[str, str]:
    """The keys keystone reads from `directory`: its files named by an integer."""
    found: dict[str, str] = {}
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name.isdigit() and os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                found[name] = handle.read()
    return found


def _write_atomic(directory: str, name: str, content: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".key-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, os.path.join(directory, name))
    except BaseException:
        os.unlink(temporary)
        raise


def sync(directory: str, wanted: Mapping[str, str]) -> list[str]:
    """Make `directory` hold exactly `wanted`: new keys first, then the removals. Returns the
    names written or removed."""
    try:
        present = _key_files(directory)
        changed = [name for name, key in wanted.items() if present.get(name) != key]
        for name in changed:
            _write_atomic(directory, name, wanted[name])
        gone = sorted(set(present) - set(wanted))
        for name in gone:
            os.unlink(os.path.join(directory, name))
    except OSError as error:
        raise RepositoryError(f"key repository {directory}: {error.strerror} "
                              f"({error.filename or directory}); it must exist and belong to "
                              "the user keystone runs as") from None
    return changed + gone


def apply(config: KeyConfig, now: float) -> list[str]:
    """Bring both repositories to time `now`; one line per repository that changed."""
    report = []
    fernet = fernet_keys(config, now)
    if sync(config.fernet_dir, fernet):
        primary = max(fernet, key=int)
        report.append(f"fernet keys of epoch {int(primary) - 1} ({len(fernet)} keys, rotating "
                      f"every {config.rotation_interval} s) in {config.fernet_dir}")
    if sync(config.credential_dir, credential_keys(config)):
        report.append(f"credential keys in {config.credential_dir}")
    return report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="telemetry_keystone_keys",
        description="Write keystone's fernet and credential keys, derived from the shared "
                    "secret and the time, into their repositories.")
    parser.add_argument("config", help="the JSON config file")
    parser.add_argument("--at", type=float, default=None,
                        help="seconds since the epoch to derive the keys of (default: now)")
    args = parser.parse_args(argv)
    try:
        for line in apply(load_config(args.config), time.time() if args.at is None else args.at):
            print(f"telemetry_keystone_keys: {line}", flush=True)
    except KeysError as error:
        print(f"telemetry_keystone_keys: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
