"""The one templating environment shared by Dockerfiles, config files and Kubernetes resources.

Sandboxed (templates come from operators' override files too) and StrictUndefined (a missing
variable is an error naming the variable, never an empty string in a config file).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from telemetry.common.errors import BadInput


class TemplateError(BadInput):
    """A template failed to render; the message names the file and line."""


def make_environment(search_path: Iterable[Path]) -> jinja2.Environment:
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    # The config templates are Ansible's too: what they use of its filters means the same here.
    env.filters["bool"] = ansible_bool
    return env


def ansible_bool(value: Any) -> bool:
    """Ansible's `bool` filter: true, yes, on and 1 (any case) are true, anything else false."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "yes", "on", "1", "y", "t"}


def render(env: jinja2.Environment, template: str, variables: Mapping[str, Any]) -> str:
    try:
        return env.get_template(template).render(**variables)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name or template}:{exc.lineno}"
        raise TemplateError(f"{where}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"{template}: template {exc.name!r} not found in "
                            f"{env.loader.searchpath}") from exc  # type: ignore[union-attr]
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError) as exc:
        raise TemplateError(f"{_template_location(exc, template)}: {exc}") from exc


def _template_location(exc: BaseException, fallback: str) -> str:
    """The innermost template file and line of a render-time error, from its traceback."""
    location = fallback
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2") or "/templates/" in frame.filename:
            location = f"{frame.filename}:{frame.lineno}"
    return location
