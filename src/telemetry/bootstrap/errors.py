"""Typed failures of the bootstrap tasks and the exit codes they map to."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_SPEC = 2


class BootstrapError(Exception):
    """Base of every failure this package reports on purpose (never with a secret in it).

    ``partial`` may hold the TaskResult of what was done before the failure.
    """

    exit_code = EXIT_FAILED

    def __init__(self, message: str, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial


class SpecError(BootstrapError):
    """The spec file is missing, unreadable, not YAML, or a field is missing or wrong."""

    exit_code = EXIT_BAD_SPEC


class TaskError(BootstrapError):
    """The task ran and failed: a service refused, answered an error, or the spec disagrees."""


class UnavailableError(TaskError):
    """A service did not answer within the bounded wait."""


class DriftError(TaskError):
    """Something differs from the spec and the service does not allow changing it in place."""


def scrub(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """text with every secret value in it replaced by ***: for messages quoting a server."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
