"""Bounded waiting for a service that is not answering yet, with progress lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from telemetry.bootstrap.errors import UnavailableError

T = TypeVar("T")
Progress = Callable[[str], None]


def no_progress(_line: str) -> None:
    """A Progress that prints nothing."""


@dataclass(frozen=True)
class Wait:
    """How long to keep trying (seconds) and how long to sleep between attempts."""

    timeout: float = 120.0
    interval: float = 2.0
    progress_every: float = 10.0


def redact_url(url: str) -> str:
    """The URL without any user:password@ part, fit to print."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def describe(exc: BaseException) -> str:
    """A short one-line description of a (connection) error, without secrets."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def retry(attempt: Callable[[], T], *, what: str, wait: Wait,
          retriable: Callable[[Exception], bool], progress: Progress = no_progress,
          clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> T:
    """Call attempt() until it returns, while it raises what retriable() accepts.

    Other exceptions propagate at once. When wait.timeout runs out, raises UnavailableError
    naming `what` and the last error. Progress lines: the first failure, every
    wait.progress_every seconds after that, and whenever the error changes.
    """
    start = clock()
    deadline = start + wait.timeout
    last_reported: str | None = None
    last_report_at = start
    tries = 0
    while True:
        tries += 1
        try:
            result = attempt()
        except Exception as exc:
            if not retriable(exc):
                raise
            error = describe(exc)
            now = clock()
            if now >= deadline:
                raise UnavailableError(
                    f"{what} did not answer within {wait.timeout:g} s ({tries} attempts); "
                    f"last error: {error}") from None
            if error != last_reported or now - last_report_at >= wait.progress_every:
                progress(f"waiting for {what}: {error} ({now - start:.0f} s of "
                         f"{wait.timeout:g} s)")
                last_reported, last_report_at = error, now
            sleep(max(0.0, min(wait.interval, deadline - now)))
            continue
        if tries > 1:
            progress(f"{what} answered after {clock() - start:.0f} s")
        return result
