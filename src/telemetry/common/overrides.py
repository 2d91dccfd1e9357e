"""Operator overrides under <configdir>/config/, merged over the rendered config files.

Kolla-Ansible's layout, so its operators find their way: for a file F of container C of service S
on host H, these are applied in order, each over the result of the ones before:

    config/global.conf          every INI file of every service       (global)
    config/F                    e.g. config/gnocchi.conf              (project)
    config/S/F                  e.g. config/gnocchi/gnocchi.conf      (project, in its directory)
    config/S/C/F                e.g. config/gnocchi/gnocchi-api/gnocchi-uwsgi.ini  (service)
    config/S/H/F                e.g. config/gnocchi/control01/gnocchi.conf         (host)

How a file is merged follows from what it is: INI files (``.conf``, ``.ini``, ``.cnf`` that parse
as INI) option by option, YAML files as a deep merge of mappings (lists are replaced), anything
else (nginx.conf, redis.conf, snmpd.conf, JSON) is replaced whole by the last override found.
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import BadInput

INI_SUFFIXES = (".conf", ".ini", ".cnf")
YAML_SUFFIXES = (".yaml", ".yml")


class OverrideError(BadInput):
    """An override file cannot be read or merged; the message names the file."""


@dataclass(frozen=True)
class Scope:
    """Where a rendered file belongs: picks which override files apply."""

    service: str
    container: str
    host: str


@dataclass(frozen=True)
class MergedFile:
    content: str
    applied: tuple[Path, ...]


def _ini_parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",),
                                       empty_lines_in_values=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep option case
    return parser


def parses_as_ini(text: str) -> bool:
    if not text.strip():
        return False
    try:
        _ini_parser().read_string(text)
    except configparser.Error:
        return False
    return True


def merge_kind(file_name: str, rendered: str) -> str:
    """'ini', 'yaml' or 'replace' for this file."""
    if file_name.endswith(YAML_SUFFIXES):
        return "yaml"
    if file_name.endswith(INI_SUFFIXES) and parses_as_ini(rendered):
        return "ini"
    return "replace"


def candidates(config_root: Path, file_name: str, kind: str, scope: Scope) -> list[Path]:
    """The override files that exist for this file, in the order they apply."""
    paths = [config_root / "global.conf"] if kind == "ini" else []
    paths += [config_root / file_name,
              config_root / scope.service / file_name,
              config_root / scope.service / scope.container / file_name,
              config_root / scope.service / scope.host / file_name]
    unique = list(dict.fromkeys(paths))
    return [path for path in unique if path.is_file()]


def _merge_ini(rendered: str, overrides: list[Path]) -> str:
    parser = _ini_parser()
    parser.read_string(rendered)
    for path in overrides:
        try:
            parser.read_string(path.read_text(), source=str(path))
        except configparser.Error as error:
            raise OverrideError(f"{path} is not a valid INI file: {error}") from error
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return override


def _merge_yaml(rendered: str, overrides: list[Path]) -> str:
    merged = yaml.safe_load(rendered)
    for path in overrides:
        try:
            merged = deep_merge(merged, yaml.safe_load(path.read_text()))
        except yaml.YAMLError as error:
            raise OverrideError(f"{path} is not valid YAML: {error}") from error
    return "---\n" + yaml.safe_dump(merged, default_flow_style=False, sort_keys=False)


def merge(file_name: str, rendered: str, config_root: Path, scope: Scope) -> MergedFile:
    """The rendered file with every applicable override merged in."""
    kind = merge_kind(file_name, rendered)
    overrides = candidates(config_root, file_name, kind, scope)
    if not overrides:
        return MergedFile(rendered, ())
    if kind == "ini":
        content = _merge_ini(rendered, overrides)
    elif kind == "yaml":
        content = _merge_yaml(rendered, overrides)
    else:
        content = overrides[-1].read_text()
    return MergedFile(content, tuple(overrides))
