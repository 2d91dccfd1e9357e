"""Run containers' healthchecks ourselves: podman has no timer for them without systemd."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOG_LINES = 20


@dataclass(frozen=True)
class Health:
    name: str
    state: str
    health: str
    restarts: int
    detail: str = ""


def check_container(container: Any) -> Health:
    """Run the container's configured healthcheck once inside it."""
    container.reload()
    attrs = container.attrs
    state = attrs.get("State", {}).get("Status", "unknown")
    restarts = int(attrs.get("RestartCount", 0) or 0)
    test = (attrs.get("Config", {}).get("Healthcheck") or {}).get("Test") or []
    if state != "running":
        return Health(container.name, state, "unhealthy", restarts, f"container is {state}")
    if not test or test[0] == "NONE":
        return Health(container.name, state, "none", restarts)
    command = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
    code, output = container.exec_run(command)
    detail = output.decode(errors="replace").strip().splitlines()
    health = "healthy" if code == 0 else "unhealthy"
    return Health(container.name, state, health, restarts, detail[-1] if detail else "")


def wait_healthy(container: Any, timeout: float, interval: float = 1.0,
                 on_attempt: Callable[[Health, float], None] | None = None) -> Health:
    """Check until healthy or the timeout passes; the last result either way."""
    started = time.monotonic()
    while True:
        result = check_container(container)
        elapsed = time.monotonic() - started
        if on_attempt:
            on_attempt(result, elapsed)
        if result.health in ("healthy", "none") or elapsed >= timeout:
            return result
        if result.state in ("exited", "dead"):
            return result
        time.sleep(interval)


def last_log_lines(container: Any, lines: int = LOG_LINES) -> list[str]:
    return container.logs(tail=lines).decode(errors="replace").splitlines()
