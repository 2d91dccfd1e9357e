"""One error base for every CLI: the exit code lives on the exception class.

A CLI catches :class:`TelemetryError` once (:func:`run_cli`), prints ``prog: error: message``
on stderr and exits with the class's code; anything else is a bug and keeps its traceback.
Messages never quote a secret.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3


class TelemetryError(Exception):
    """A failure reported on purpose; ``exit_code`` says which kind."""

    exit_code = EXIT_FAILED


class ActionFailed(TelemetryError):
    """The action ran and failed (a playbook, a build, a container that is not healthy)."""


class BadInput(TelemetryError):
    """The input cannot be used: a file, option, catalog entry or name is wrong or missing.
    The message says what is wrong and what to do."""

    exit_code = EXIT_BAD_INPUT


class Unavailable(TelemetryError):
    """Something the action needs does not answer: the container engine, a cluster."""

    exit_code = EXIT_UNAVAILABLE


def run_cli(prog: str, action: Callable[[], int], stderr: TextIO | None = None) -> int:
    """Run a CLI's action; a TelemetryError becomes one line on stderr and its exit code.

    ``stderr`` defaults to sys.stderr at call time (tests hand a CLI their own stream).
    """
    stderr = stderr or sys.stderr
    try:
        return action()
    except TelemetryError as exc:
        print(f"{prog}: error: {exc}", file=stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=stderr)
        return 130
