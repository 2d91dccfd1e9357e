"""Reading the YAML spec rendered by the deployment, with errors that name the field.

The spec holds passwords: nothing here ever puts a value into an error message, only field
paths (``keystone.users[2].password``) and type names. YAML syntax errors are reported by line
and column only, because PyYAML's own message quotes the offending line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from telemetry.bootstrap.errors import SpecError

SECTIONS: Final = frozenset({"database", "auth", "keystone", "gnocchi", "wait_http"})

_MISSING: Final = object()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class Section:
    """A mapping of the spec plus its path, with typed accessors that raise SpecError."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def _field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _get(self, key: str, default: Any) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise SpecError(f"spec field {self._field(key)} is missing")
            return default
        return value

    def reject_unknown(self, known: Iterable[str]) -> None:
        unknown = sorted(set(self.data) - set(known))
        if unknown:
            names = ", ".join(self._field(str(k)) for k in unknown)
            raise SpecError(f"unknown spec field(s): {names} (known: {', '.join(sorted(known))})")

    def text(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default:
            return value
        if not isinstance(value, str) or not value:
            raise SpecError(f"spec field {self._field(key)} must be a non-empty string "
                            f"(quote it), not {_type_name(value)}")
        return value

    def name(self, key: str, default: Any = _MISSING, pattern: str = r"[A-Za-z0-9_.:-]+") -> Any:
        value = self.text(key, default)
        if value is not default and not re.fullmatch(pattern, value):
            raise SpecError(f"spec field {self._field(key)} must match {pattern}")
        return value

    def integer(self, key: str, default: Any = _MISSING, minimum: int = 0) -> Any:
        value = self._get(key, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SpecError(f"spec field {self._field(key)} must be an integer >= {minimum}")
        return value

    def number(self, key: str, default: Any = _MISSING, minimum: float = 0.0) -> Any:
        value = self._get(key, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise SpecError(f"spec field {self._field(key)} must be a number >= {minimum:g}")
        return float(value)

    def flag(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is not default and not isinstance(value, bool):
            raise SpecError(f"spec field {self._field(key)} must be true or false")
        return value

    def section(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default:
            return value
        if not isinstance(value, Mapping):
            raise SpecError(f"spec field {self._field(key)} must be a mapping, "
                            f"not {_type_name(value)}")
        return Section(value, self._field(key))

    def _list(self, key: str, default: Any) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise SpecError(f"spec field {self._field(key)} is missing")
            return default
        if value is None:  # `users:` with nothing under it: an empty list
            return []
        if not isinstance(value, list):
            raise SpecError(f"spec field {self._field(key)} must be a list, "
                            f"not {_type_name(value)}")
        return value

    def sections(self, key: str, default: Any = _MISSING) -> Any:
        value = self._list(key, default)
        if value is default:
            return value
        result = []
        for index, item in enumerate(value):
            path = f"{self._field(key)}[{index}]"
            if not isinstance(item, Mapping):
                raise SpecError(f"spec field {path} must be a mapping, not {_type_name(item)}")
            result.append(Section(item, path))
        return result

    def str_list(self, key: str, default: Any = _MISSING) -> Any:
        value = self._list(key, default)
        if value is default:
            return value
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise SpecError(f"spec field {self._field(key)}[{index}] must be a "
                                f"non-empty string")
        return list(value)


def parse(text: str, source: str = "spec") -> Section:
    """Parse spec text; the top level is a mapping of the known sections."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{source} is not valid YAML{where}") from None
    except yaml.YAMLError:
        raise SpecError(f"{source} is not valid YAML") from None
    if not isinstance(data, Mapping):
        raise SpecError(f"{source} must hold a mapping at the top level, not {_type_name(data)}")
    root = Section(data, "")
    root.reject_unknown(SECTIONS)
    return root


def load(path: str | Path) -> Section:
    """Read and parse the spec file at path."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"spec file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"spec file {path} cannot be read: "
                        f"{getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    return parse(text, f"spec file {path}")
