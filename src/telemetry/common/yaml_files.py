"""Operator YAML files (passwords.yml, globals.yml) read into a mapping, or one-line BadInput;
and the strict-keys rule of the files this project reads (the catalog, the Kubernetes
exceptions).

PyYAML's own messages span several lines with a caret diagram; a CLI prints one line per error,
so only the position and the problem are kept. Never quotes the file's content (secrets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import BadInput


def load_mapping(path: Path, error: type[BadInput] = BadInput) -> dict[str, Any]:
    """The file's mapping ({} when empty); ``error`` naming the file when it is not one."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise error(f"{path} cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path} is not valid YAML{yaml_error_position(exc)}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path} must be a mapping of key: value, not a {type(data).__name__}")
    return data


def check_known_keys(where: str, spec: Any, known: tuple[str, ...],
                     error: type[BadInput] = BadInput) -> None:
    """A mapping with only known keys, or ``error`` naming the entry, the unknown keys and the
    known ones (a typo such as `healtcheck:` must not pass as "no healthcheck")."""
    if not isinstance(spec, dict):
        raise error(f"{where}: must be a mapping, got {type(spec).__name__}")
    unknown = sorted(str(key) for key in spec if key not in known)
    if unknown:
        raise error(f"{where}: unknown key {', '.join(map(repr, unknown))}; known keys: "
                    f"{', '.join(known)}")


def yaml_error_position(exc: yaml.YAMLError) -> str:
    """' (line L, column C: problem)' from a PyYAML error, '' when it has no position."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or ""
    if mark is None:
        return f" ({problem})" if problem else ""
    detail = f": {problem}" if problem else ""
    return f" (line {mark.line + 1}, column {mark.column + 1}{detail})"
