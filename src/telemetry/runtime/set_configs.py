#!/usr/bin/env python3
"""Put a container's config files in place; installed as /usr/local/bin/telemetry_set_configs.

Modelled on Kolla's set_configs.py. Self-contained and stdlib only: this file is copied into
every image and must not import anything from the project.

The deployment mounts a directory holding the rendered config files plus a ``config.json``
describing where each file goes::

    {"command": "/usr/bin/uwsgi --ini /etc/gnocchi/gnocchi-uwsgi.ini",
     "bootstrap_command": "gnocchi-upgrade",
     "config_files": [{"source": "/var/lib/telemetry/config_files/gnocchi.conf",
                       "dest": "/etc/gnocchi/gnocchi.conf",
                       "owner": "gnocchi", "perm": "0600", "optional": false}],
     "permissions": [{"path": "/var/log/gnocchi", "owner": "gnocchi:gnocchi",
                      "recurse": true}]}

``command`` is required. ``bootstrap_command``, ``user``, ``config_files`` and ``permissions``
are optional; ``user`` is who the command runs as once the files (which need root to chown) are
in place. In ``config_files`` entries, ``source``, ``dest``, ``owner`` and ``perm`` are
required and ``optional`` (default false) lets a missing source be skipped. ``source`` may be a
file or a directory (the tree is mirrored: files missing from the source are removed from
``dest``; Kubernetes' ``..data`` bookkeeping entries are ignored). Directories get ``perm``
plus an execute bit wherever it has a read bit (0640 -> 0750). ``permissions`` entries take
``path`` (glob allowed), ``owner``, optional ``recurse`` (default false) and optional ``perm``.
``owner`` is ``user`` (group = the user's primary group) or ``user:group``, names or numeric
ids (an id unknown to the image is used as is, a lone numeric user then also being the group);
``perm`` is an octal string like ``"0640"``. Unknown keys are rejected, so a typo fails loudly
instead of being ignored.

Every file is written atomically: a temporary file in the destination directory gets its
content, mode and owner, then is renamed over ``dest``. Everything (JSON, sources, owners)
is validated before the first file is touched, so a failure leaves nothing half-copied.

Environment:
    TELEMETRY_CONFIG_FILE      config description (default
                               /var/lib/telemetry/config_files/config.json)
    TELEMETRY_CONFIG_STRATEGY  COPY_ALWAYS (default): copy at every container start;
                               COPY_ONCE: copy at the first start only, then leave the files
                               alone (changes made inside the container survive restarts)
    TELEMETRY_CONFIG_MARKER    file recording that COPY_ONCE has run (default
                               /var/lib/telemetry/configured: outside the config mount, in the
                               container's writable layer, so it lives exactly as long as the
                               copied files; /run is avoided because it may be a tmpfs)

Usage:
    telemetry_set_configs                      apply (copy files, then permissions)
    telemetry_set_configs --check              compare sources with what is in place
    telemetry_set_configs --command            print the service command
    telemetry_set_configs --bootstrap-command  print the bootstrap command

Exit codes:
    0   success (--check: everything in place)
    1   --check only: something differs (one line per file on stdout)
    2   config.json missing, unreadable, not JSON or not in the format above
    3   a non-optional source is missing (nothing was copied)
    4   an owner names a user or group that does not exist in the image (nothing was copied)
    5   TELEMETRY_CONFIG_STRATEGY is not COPY_ALWAYS or COPY_ONCE
    6   --bootstrap-command asked but config.json has no bootstrap_command
    7   a filesystem operation failed (copy, chmod, chown, marker): usually not running as root
    64  bad command-line usage
"""

from __future__ import annotations

import argparse
import errno
import glob
import grp
import json
import os
import pwd
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

PROG = "telemetry_set_configs"
DEFAULT_CONFIG_FILE = "/var/lib/telemetry/config_files/config.json"
DEFAULT_MARKER = "/var/lib/telemetry/configured"
COPY_ALWAYS = "COPY_ALWAYS"
COPY_ONCE = "COPY_ONCE"
STRATEGIES = (COPY_ALWAYS, COPY_ONCE)

EXIT_OK = 0
EXIT_DIFFERS = 1
EXIT_USAGE = 64

_PERM_RE = re.compile(r"^0?[0-7]{3,4}$")
_OWNER_RE = re.compile(r"^[^:\s]+(:[^:\s]+)?$")
_TOP_KEYS = {"command", "bootstrap_command", "user", "config_files", "permissions"}
_FILE_KEYS = {"source", "dest", "owner", "perm", "optional"}
_PERMISSION_KEYS = {"path", "owner", "recurse", "perm"}


class SetConfigsError(Exception):
    """Base of the errors reported to the user; each subclass has its own exit code."""

    exit_code = 70


class ConfigFileError(SetConfigsError):
    """config.json is missing, unreadable, not JSON or not in the documented format."""

    exit_code = 2


class MissingSourceError(SetConfigsError):
    """A non-optional source file or directory does not exist."""

    exit_code = 3


class UnknownOwnerError(SetConfigsError):
    """An owner names a user or group unknown to this image."""

    exit_code = 4


class InvalidStrategyError(SetConfigsError):
    """TELEMETRY_CONFIG_STRATEGY holds an unknown value."""

    exit_code = 5


class NoBootstrapCommandError(SetConfigsError):
    """The bootstrap command was asked for but config.json defines none."""

    exit_code = 6


class FileOperationError(SetConfigsError):
    """Copying, chmod, chown or writing the marker failed."""

    exit_code = 7


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int
    spec: str


@dataclass(frozen=True)
class ConfigFile:
    source: str
    dest: str
    owner: str
    perm: int
    optional: bool


@dataclass(frozen=True)
class Permission:
    path: str
    owner: str
    recurse: bool
    perm: int | None


@dataclass(frozen=True)
class Config:
    path: str
    command: str
    bootstrap_command: str | None
    user: str | None
    config_files: tuple[ConfigFile, ...]
    permissions: tuple[Permission, ...]


@dataclass(frozen=True)
class PlannedCopy:
    entry: ConfigFile
    owner: Owner


@dataclass(frozen=True)
class PlannedPermission:
    entry: Permission
    owner: Owner


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


# --- loading and validating config.json -------------------------------------------------------


def load_config(path: str) -> Config:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError as exc:
        raise ConfigFileError(
            f"config description {path} does not exist: mount the service's config directory "
            f"at {os.path.dirname(DEFAULT_CONFIG_FILE)} or point TELEMETRY_CONFIG_FILE at it"
        ) from exc
    except OSError as exc:
        raise ConfigFileError(f"cannot read config description {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(
            f"{path} is not valid JSON ({exc}); fix or regenerate it with the deployment tooling"
        ) from exc
    return parse_config(path, raw)


def parse_config(path: str, raw: Any) -> Config:
    if not isinstance(raw, dict):
        raise ConfigFileError(f"{path}: the top level must be a JSON object")
    _reject_unknown_keys(path, "top level", raw, _TOP_KEYS)
    command = _field(path, "top level", raw, "command", str)
    if not command.strip():
        raise ConfigFileError(f"{path}: field 'command' must not be empty")
    bootstrap = _field(path, "top level", raw, "bootstrap_command", str, required=False)
    user = _field(path, "top level", raw, "user", str, required=False)
    files = _field(path, "top level", raw, "config_files", list, required=False) or []
    perms = _field(path, "top level", raw, "permissions", list, required=False) or []
    return Config(
        path=path,
        command=command,
        bootstrap_command=bootstrap or None,
        user=user or None,
        config_files=tuple(_parse_file(path, i, e) for i, e in enumerate(files)),
        permissions=tuple(_parse_permission(path, i, e) for i, e in enumerate(perms)),
    )


def _parse_file(path: str, index: int, raw: Any) -> ConfigFile:
    where = f"config_files[{index}]"
    _require_object(path, where, raw)
    _reject_unknown_keys(path, where, raw, _FILE_KEYS)
    return ConfigFile(
        source=_absolute(path, where, _field(path, where, raw, "source", str)),
        dest=_absolute(path, where, _field(path, where, raw, "dest", str)),
        owner=_owner_spec(path, where, _field(path, where, raw, "owner", str)),
        perm=_perm(path, where, _field(path, where, raw, "perm", str)),
        optional=_field(path, where, raw, "optional", bool, required=False) or False,
    )


def _parse_permission(path: str, index: int, raw: Any) -> Permission:
    where = f"permissions[{index}]"
    _require_object(path, where, raw)
    _reject_unknown_keys(path, where, raw, _PERMISSION_KEYS)
    perm = _field(path, where, raw, "perm", str, required=False)
    return Permission(
        path=_absolute(path, where, _field(path, where, raw, "path", str)),
        owner=_owner_spec(path, where, _field(path, where, raw, "owner", str)),
        recurse=_field(path, where, raw, "recurse", bool, required=False) or False,
        perm=None if perm is None else _perm(path, where, perm),
    )


def _require_object(path: str, where: str, raw: Any) -> None:
    if not isinstance(raw, dict):
        raise ConfigFileError(f"{path}: {where} must be a JSON object, got {raw!r}")


def _reject_unknown_keys(path: str, where: str, raw: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigFileError(
            f"{path}: {where} has unknown key(s) {', '.join(unknown)}; "
            f"known keys are {', '.join(sorted(known))}"
        )


def _field(
    path: str, where: str, raw: dict[str, Any], key: str, kind: type, required: bool = True
) -> Any:
    if key not in raw or raw[key] is None:
        if required:
            raise ConfigFileError(f"{path}: {where} lacks the required field '{key}'")
        return None
    value = raw[key]
    if not isinstance(value, kind):
        raise ConfigFileError(
            f"{path}: {where} field '{key}' must be a JSON {_json_type(kind)}, got {value!r}"
        )
    return value


def _json_type(kind: type) -> str:
    return {str: "string", bool: "boolean", list: "array", dict: "object"}.get(kind, kind.__name__)


def _absolute(path: str, where: str, value: str) -> str:
    if not os.path.isabs(value):
        raise ConfigFileError(f"{path}: {where} path {value!r} must be absolute")
    return os.path.normpath(value)


def _owner_spec(path: str, where: str, value: str) -> str:
    if not _OWNER_RE.match(value):
        raise ConfigFileError(
            f"{path}: {where} field 'owner' must be 'user' or 'user:group', got {value!r}"
        )
    return value


def _perm(path: str, where: str, value: str) -> int:
    if not _PERM_RE.match(value):
        raise ConfigFileError(
            f"{path}: {where} field 'perm' must be an octal string like '0640', got {value!r}"
        )
    return int(value, 8)


# --- owners, strategy ----------------------------------------------------------------------


def resolve_owner(spec: str, where: str) -> Owner:
    user, _, group = spec.partition(":")
    uid, primary_gid = _lookup_user(user, where)
    gid = _lookup_group(group, where) if group else primary_gid
    return Owner(uid=uid, gid=gid, spec=f"{_user_name(uid)}:{_group_name(gid)}")


def _lookup_user(user: str, where: str) -> tuple[int, int]:
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except KeyError:
        if user.isdigit():
            return int(user), int(user)
        raise UnknownOwnerError(
            f"{where}: user {user!r} does not exist in this image; add it to the image "
            f"(catalog 'users') or fix the owner in config.json. Nothing was changed."
        ) from None
    return entry.pw_uid, entry.pw_gid


def _lookup_group(group: str, where: str) -> int:
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise UnknownOwnerError(
            f"{where}: group {group!r} does not exist in this image; add it to the image "
            f"or fix the owner in config.json. Nothing was changed."
        ) from None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def get_strategy(environ: Mapping[str, str]) -> str:
    strategy = environ.get("TELEMETRY_CONFIG_STRATEGY", "") or COPY_ALWAYS
    if strategy not in STRATEGIES:
        raise InvalidStrategyError(
            f"TELEMETRY_CONFIG_STRATEGY={strategy!r} is not a known strategy; "
            f"set it to {' or '.join(STRATEGIES)} (or leave it unset for {COPY_ALWAYS})"
        )
    return strategy


# --- planning: validate everything before touching anything -------------------------------


def plan_copies(config: Config) -> list[PlannedCopy]:
    planned: list[PlannedCopy] = []
    missing: list[str] = []
    for index, entry in enumerate(config.config_files):
        owner = resolve_owner(entry.owner, f"config_files[{index}] (dest {entry.dest})")
        if os.path.exists(entry.source):
            planned.append(PlannedCopy(entry, owner))
        elif entry.optional:
            log(f"skipped {entry.source}: optional source not present")
        else:
            missing.append(entry.source)
    if missing:
        raise MissingSourceError(
            f"source(s) missing: {', '.join(missing)}; check that the service's config "
            f'directory is mounted and holds them, or mark the entries "optional": true '
            f"in {config.path}. Nothing was copied."
        )
    return planned


def plan_permissions(config: Config) -> list[PlannedPermission]:
    return [
        PlannedPermission(entry, resolve_owner(entry.owner, f"permissions[{i}] ({entry.path})"))
        for i, entry in enumerate(config.permissions)
    ]


# --- walking trees -------------------------------------------------------------------------


def dir_mode(perm: int) -> int:
    """A directory needs x to be entered: add it wherever perm grants r (0640 -> 0750)."""
    return perm | ((perm & 0o444) >> 2)


def walk_source(root: str, rel: str = "") -> Iterator[tuple[str, bool]]:
    """(relative path, is_dir) below root, parents first, sorted; symlinks are followed.

    Names starting with '..' are Kubernetes' atomic-update bookkeeping (..data, ..2024_...)
    in ConfigMap/Secret volumes, not configuration.
    """
    with os.scandir(os.path.join(root, rel)) as entries:
        children = sorted((e.name, e.is_dir()) for e in entries if not e.name.startswith(".."))
    for name, is_dir in children:
        child = os.path.join(rel, name)
        yield child, is_dir
        if is_dir:
            yield from walk_source(root, child)


def walk_dest(root: str) -> Iterator[str]:
    """Relative paths below root, without following symlinks."""
    for current, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            yield os.path.relpath(os.path.join(current, name), root)


def _is_real_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def remove_path(path: str) -> None:
    if _is_real_dir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


# --- applying ------------------------------------------------------------------------------


def copy_file(source: str, dest: str, owner: Owner, perm: int) -> None:
    """Atomically replace dest: temp file in the same directory, chmod/chown, rename."""
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    if _is_real_dir(dest):
        shutil.rmtree(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=parent)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fchmod(out.fileno(), perm)
            os.fchown(out.fileno(), owner.uid, owner.gid)
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def make_dir(dest: str, owner: Owner, perm: int) -> None:
    if os.path.lexists(dest) and not _is_real_dir(dest):
        os.unlink(dest)
    os.makedirs(dest, exist_ok=True)
    os.chown(dest, owner.uid, owner.gid)
    os.chmod(dest, dir_mode(perm))


def copy_tree(source: str, dest: str, owner: Owner, perm: int) -> int:
    """Mirror source into dest (files are replaced atomically, extras removed); file count."""
    make_dir(dest, owner, perm)
    wanted = {""}
    count = 0
    for rel, is_dir in walk_source(source):
        wanted.add(rel)
        target = os.path.join(dest, rel)
        if is_dir:
            make_dir(target, owner, perm)
        else:
            copy_file(os.path.join(source, rel), target, owner, perm)
            count += 1
    for rel in sorted(walk_dest(dest), reverse=True):
        if rel not in wanted:
            remove_path(os.path.join(dest, rel))
    return count


def apply_copy(item: PlannedCopy) -> None:
    entry, owner = item.entry, item.owner
    try:
        if os.path.isdir(entry.source):
            count = copy_tree(entry.source, entry.dest, owner, entry.perm)
            log(
                f"copied {entry.source}/ -> {entry.dest}/ ({count} files, {owner.spec}, "
                f"{entry.perm:04o})"
            )
        else:
            copy_file(entry.source, entry.dest, owner, entry.perm)
            log(f"copied {entry.source} -> {entry.dest} ({owner.spec}, {entry.perm:04o})")
    except OSError as exc:
        raise _file_error(f"cannot copy {entry.source} to {entry.dest}", exc) from exc


def set_properties(path: str, owner: Owner, perm: int | None) -> None:
    os.chown(path, owner.uid, owner.gid, follow_symlinks=False)
    if perm is not None and not os.path.islink(path):
        os.chmod(path, dir_mode(perm) if os.path.isdir(path) else perm)


def apply_permission(item: PlannedPermission) -> None:
    entry, owner = item.entry, item.owner
    paths = sorted(glob.glob(entry.path)) if glob.has_magic(entry.path) else [entry.path]
    paths = [p for p in paths if os.path.lexists(p)]
    if not paths:
        log(f"skipped permissions on {entry.path}: does not exist")
        return
    try:
        for path in paths:
            set_properties(path, owner, entry.perm)
            if entry.recurse and _is_real_dir(path):
                for rel in walk_dest(path):
                    set_properties(os.path.join(path, rel), owner, entry.perm)
            log(f"set {owner.spec} on {path}{' (recursive)' if entry.recurse else ''}")
    except OSError as exc:
        raise _file_error(f"cannot set permissions on {entry.path}", exc) from exc


def write_marker(marker: str) -> None:
    try:
        os.makedirs(os.path.dirname(marker) or ".", exist_ok=True)
        with open(marker, "w", encoding="utf-8") as handle:
            handle.write("configured by telemetry_set_configs (COPY_ONCE)\n")
    except OSError as exc:
        raise _file_error(f"cannot write the COPY_ONCE marker {marker}", exc) from exc


def _file_error(action: str, exc: OSError) -> FileOperationError:
    hint = ""
    if exc.errno in (errno.EPERM, errno.EACCES, errno.EROFS):
        hint = (
            "; telemetry_set_configs must run as root (it chowns files) and the "
            "destination must be writable"
        )
    where = f" ({exc.filename})" if exc.filename else ""
    return FileOperationError(f"{action}: {exc.strerror}{where}{hint}")


def apply(config: Config, strategy: str, marker: str) -> None:
    if strategy == COPY_ONCE and os.path.lexists(marker):
        log(f"{COPY_ONCE}: already configured ({marker} exists), leaving files alone")
        return
    copies = plan_copies(config)
    permissions = plan_permissions(config)
    for item in copies:
        apply_copy(item)
    for perm_item in permissions:
        apply_permission(perm_item)
    if strategy == COPY_ONCE:
        write_marker(marker)


# --- checking ------------------------------------------------------------------------------


def same_content(first: str, second: str) -> bool:
    with open(first, "rb") as a, open(second, "rb") as b:
        while True:
            chunk_a, chunk_b = a.read(65536), b.read(65536)
            if chunk_a != chunk_b:
                return False
            if not chunk_a:
                return True


def compare_entry(source: str, dest: str, is_dir: bool, owner: Owner, perm: int) -> list[str]:
    """What differs between one source file/dir and dest (empty when identical)."""
    if not os.path.lexists(dest):
        return ["missing"]
    if is_dir != _is_real_dir(dest):
        want, found = ("a directory", "a file") if is_dir else ("a file", "a directory")
        return [f"is {found} (expected {want})"]
    diffs = []
    if not is_dir and not same_content(source, dest):
        diffs.append("content differs")
    st = os.stat(dest)
    expected_mode = dir_mode(perm) if is_dir else perm
    if stat.S_IMODE(st.st_mode) != expected_mode:
        diffs.append(f"mode {stat.S_IMODE(st.st_mode):04o} (expected {expected_mode:04o})")
    if (st.st_uid, st.st_gid) != (owner.uid, owner.gid):
        actual = f"{_user_name(st.st_uid)}:{_group_name(st.st_gid)}"
        diffs.append(f"owner {actual} (expected {owner.spec})")
    return diffs


def check_copy(item: PlannedCopy) -> list[str]:
    entry, owner = item.entry, item.owner
    is_dir = os.path.isdir(entry.source)
    lines = _diff_lines(
        entry.dest, compare_entry(entry.source, entry.dest, is_dir, owner, entry.perm)
    )
    if not is_dir or not _is_real_dir(entry.dest):
        return lines
    wanted = set()
    for rel, child_is_dir in walk_source(entry.source):
        wanted.add(rel)
        src, dst = os.path.join(entry.source, rel), os.path.join(entry.dest, rel)
        lines += _diff_lines(dst, compare_entry(src, dst, child_is_dir, owner, entry.perm))
    for rel in walk_dest(entry.dest):
        if rel not in wanted:
            lines.append(f"{os.path.join(entry.dest, rel)}: not in source {entry.source}")
    return lines


def _diff_lines(dest: str, diffs: list[str]) -> list[str]:
    return [f"{dest}: {'; '.join(diffs)}"] if diffs else []


def check(config: Config) -> list[str]:
    lines: list[str] = []
    for item in plan_copies(config):
        try:
            lines += check_copy(item)
        except OSError as exc:
            raise _file_error(
                f"cannot compare {item.entry.source} with {item.entry.dest}", exc
            ) from exc
    return lines


# --- command line --------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Copy mounted config files into place as described by config.json.",
        epilog="Exit codes:" + (__doc__ or "Exit codes:").split("Exit codes:", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="compare sources with the files in place; exit 1 when they differ",
    )
    mode.add_argument("--command", action="store_true", help="print the service command")
    mode.add_argument(
        "--user",
        action="store_true",
        help="print the user the command runs as (empty: the container's own user)",
    )
    mode.add_argument(
        "--bootstrap-command",
        action="store_true",
        help="print the bootstrap command (exit 6 when there is none)",
    )
    return parser


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = load_config(environ.get("TELEMETRY_CONFIG_FILE", "") or DEFAULT_CONFIG_FILE)
    if args.command:
        print(config.command)
        return EXIT_OK
    if args.user:
        if config.user is not None:
            resolve_owner(config.user, "top level field 'user'")
        print(config.user or "")
        return EXIT_OK
    if args.bootstrap_command:
        if config.bootstrap_command is None:
            raise NoBootstrapCommandError(
                f"{config.path} has no bootstrap_command: this service has no bootstrap "
                f"step; unset TELEMETRY_BOOTSTRAP or add bootstrap_command to config.json"
            )
        print(config.bootstrap_command)
        return EXIT_OK
    if args.check:
        differences = check(config)
        for line in differences:
            print(line)
        return EXIT_DIFFERS if differences else EXIT_OK
    apply(
        config, get_strategy(environ), environ.get("TELEMETRY_CONFIG_MARKER", "") or DEFAULT_MARKER
    )
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args, os.environ)
    except SetConfigsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
