"""Functional tests: real podman, real images, real containers (root on a prepared host)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from telemetry.common.engine import DEFAULT_ENGINE_URL, connect
from tests.conftest import run_cli

BUILD = "telemetry.cli.build"


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    return connect(DEFAULT_ENGINE_URL)


def build(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    """Run telemetry-build; return its exit code, JSON summary and printed output."""
    summary = tmp_path / f"summary-{len(list(tmp_path.glob('summary-*')))}.json"
    result = run_cli(BUILD, "--summary-json-file", str(summary),
                     "--logs-dir", str(tmp_path / "logs"), *args)
    output = result.stdout + result.stderr
    data = json.loads(summary.read_text()) if summary.exists() else {}
    return result.returncode, data, output


def listed_hashes(*args: str) -> dict[str, str]:
    result = run_cli(BUILD, "--list-images", *args)
    assert result.returncode == 0, result.stderr
    return {line.split()[0]: line.split()[2] for line in result.stdout.splitlines()[1:]}


def wait_until(what: str, check: Callable[[], object], timeout: float = 60, *,
               ignoring: tuple[type[Exception], ...] = (),
               logs: Callable[[], str] | None = None) -> None:
    """Poll check() every 0.5 s until it is truthy; fail naming `what` after timeout, with the
    last error it raised and logs() if given. An exception of a type in `ignoring` (a server
    still starting refuses connections) means "not yet"."""
    deadline = time.monotonic() + timeout
    last = "never true"
    while True:
        try:
            if check():
                return
        except ignoring as error:
            last = repr(error)
        if time.monotonic() > deadline:
            extra = f"\n--- logs\n{logs()}" if logs else ""
            pytest.fail(f"{what}: not within {timeout} s ({last}){extra}")
        time.sleep(0.5)
