"""The variables of the resource and config templates, layered as documented in
kubernetes/globals.yml: the catalog's derived defaults (ports, database names, keystone users,
enable switches), shared defaults, deploy values, Kubernetes values, the operator's overrides,
the passwords file, then -e values. "{{ }}" values are resolved after the merge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from telemetry.catalog import Catalog, catalog_variables, load_catalog
from telemetry.common.errors import BadInput
from telemetry.templating import make_environment

DEFAULT_PASSWORDS = Path("/etc/telemetry/passwords.yml")
_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}$", re.DOTALL)
# Resolution passes: a value may use values that use values (deploy.yml nests three deep).
_MAX_PASSES = 10


class VariablesError(BadInput):
    """A variables file is missing or malformed, a password is missing, or a value cannot be
    resolved; the message names the file or the variable."""


@dataclass(frozen=True)
class Layer:
    """One source of variables, for --print-vars and error messages."""

    name: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Variables:
    values: dict[str, Any]
    password_keys: tuple[str, ...]
    layers: tuple[Layer, ...]
    unresolved: Mapping[str, str]

    def password_values(self) -> set[str]:
        """Every secret value, to prove none reaches a ConfigMap."""
        return {str(self.values[key]) for key in self.password_keys if self.values.get(key)}

    def public(self) -> dict[str, Any]:
        """The values with every password masked (for --print-vars)."""
        secrets = self.password_values()
        return {key: _mask(value, secrets) for key, value in sorted(self.values.items())}


def _mask(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "********")
        return value
    if isinstance(value, dict):
        return {k: _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secrets) for v in value]
    return value


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise VariablesError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise VariablesError(f"cannot read {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        # No exception text: a passwords file's offending line would be quoted.
        raise VariablesError(f"{what} {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise VariablesError(f"{what} {path} must hold a mapping of variables")
    return data


def parse_extra(assignments: Iterable[str]) -> dict[str, Any]:
    """-e KEY=VALUE pairs; the value is read as YAML (so 2 is a number, [a] a list)."""
    extra: dict[str, Any] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise VariablesError(f"-e {item!r}: expected KEY=VALUE")
        try:
            extra[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            raise VariablesError(f"-e {key}: the value is not valid YAML") from None
    return extra


def load_variables(root: Path, passwords: Path | Mapping[str, Any],
                   globals_files: Sequence[Path] = (),
                   extra: Mapping[str, Any] | None = None,
                   catalog: Catalog | None = None) -> Variables:
    """Merge every layer, check the passwords, resolve "{{ }}" values."""
    group_vars = root / "ansible" / "group_vars" / "all"
    # Under everything: each catalog fact an operator may override is written once, in the
    # catalog, and group_vars no longer repeats it.
    layers = [Layer("catalog (derived defaults)", catalog_variables(catalog or load_catalog())),
              Layer("ansible/group_vars/all/main.yml",
                    read_yaml_mapping(group_vars / "main.yml", "shared defaults")),
              Layer("ansible/group_vars/all/deploy.yml",
                    read_yaml_mapping(group_vars / "deploy.yml", "deploy defaults")),
              Layer("kubernetes/globals.yml",
                    read_yaml_mapping(root / "kubernetes" / "globals.yml", "Kubernetes globals"))]
    layers += [Layer(str(path), read_yaml_mapping(path, "globals file")) for path in globals_files]
    password_keys = tuple(read_yaml_mapping(root / "etc" / "telemetry" / "passwords.yml",
                                            "the passwords template"))
    if isinstance(passwords, Path):
        if not passwords.exists():
            raise VariablesError(
                f"passwords file {passwords} does not exist: copy etc/telemetry/passwords.yml "
                f"there and run telemetry-genpwd -p {passwords}, or pass --passwords FILE")
        secret_values = read_yaml_mapping(passwords, "passwords file")
        source = str(passwords)
    else:
        secret_values, source = dict(passwords), "passwords"
    missing = [key for key in password_keys if secret_values.get(key) in (None, "")]
    if missing:
        raise VariablesError(f"{source} has no value for {', '.join(missing)}: run "
                             f"telemetry-genpwd -p {source}")
    layers.append(Layer(source, {key: secret_values[key] for key in password_keys}))
    if extra:
        layers.append(Layer("-e", dict(extra)))
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer.values)
    resolved = resolve(merged)
    return Variables(values=resolved.values, password_keys=password_keys, layers=tuple(layers),
                     unresolved=resolved.unresolved)


@dataclass(frozen=True)
class ResolvedValues:
    values: dict[str, Any]
    # Variables left out because they need something only the Ansible engine has (hostvars,
    # lookup plugins): name -> why.
    unresolved: dict[str, str]


def resolve(variables: dict[str, Any]) -> ResolvedValues:
    """Template "{{ }}" values against the others, as Ansible does lazily. A value that is one
    expression keeps its native type (deploy.yml's `port: "{{ mariadb_port }}"` stays an int,
    as Ansible's native evaluation makes it). An unresolvable value names itself."""
    env = make_environment([])
    values = dict(variables)
    pending = {key for key, value in values.items() if _templated(value)}
    errors: dict[str, str] = {}
    for _ in range(_MAX_PASSES):
        progressed = False
        for key in sorted(pending):
            try:
                value = _evaluate(env, values[key], values)
            except (jinja2.TemplateError, TypeError) as exc:
                errors[key] = str(exc)
                continue
            values[key] = value
            if not _templated(value):
                pending.discard(key)
                errors.pop(key, None)
                progressed = True
        if not pending or not progressed:
            break
    # Left out, as Ansible's laziness would: only a template that uses one fails, naming it.
    for key in pending:
        del values[key]
    return ResolvedValues(values, {key: errors.get(key, "it refers to itself")
                                   for key in sorted(pending)})


def evaluate(value: Any, variables: Mapping[str, Any]) -> Any:
    """A value with "{{ }}" expressions (a registry exception's spec) against resolved
    variables; one expression keeps its native type, as in :func:`resolve`."""
    try:
        return _evaluate(make_environment([]), value, variables)
    except (jinja2.TemplateError, TypeError) as exc:
        raise VariablesError(f"{value!r} does not render: {exc}") from None


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


def _evaluate(env: jinja2.Environment, value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and _templated(value):
        single = _SINGLE_EXPRESSION.match(value.strip())
        if single:
            result = env.compile_expression(single.group("expr"),
                                            undefined_to_none=False)(**variables)
            if isinstance(result, jinja2.Undefined):
                result._fail_with_undefined_error()
            return result
        return env.from_string(value).render(**variables)
    if isinstance(value, dict):
        return {k: _evaluate(env, v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_evaluate(env, v, variables) for v in value]
    return value
