"""Molecule verify: batch ingest through the load balancer loses nothing when a gnocchi-api
backend is killed or stopped while requests are in flight.

Why the load balancer may resend a measure POST (the catalog's idempotent_posts): gnocchi keeps
one point per timestamp, so a batch stored twice is stored once. The first test proves that on
this gnocchi; the second kills and stops each backend during ingest from four threads and
counts: 0 failed requests, and every measure acknowledged reads back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
import yaml
from ingest_load import (
    POINTS_PER_METRIC,
    Ingest,
    batch,
    create_policy,
    ingest_running,
    new_metric,
    stored,
)
from stack_api import GNOCCHI, issue_token, request, wait_for

CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])


@pytest.fixture(scope="module")
def token() -> str:
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    return issue_token("admin", passwords["keystone_admin_password"], "admin")


@pytest.fixture(scope="module")
def policy(token: str) -> str:
    return create_policy(token)


def test_a_batch_sent_twice_is_stored_once(token: str, policy: str) -> None:
    metrics = [new_metric(token, policy) for _ in range(2)]
    for _ in range(2):
        status, _, reply = request(f"{GNOCCHI}/batch/metrics/measures", token, batch(metrics, 0))
        assert status == 202, reply
    for metric in metrics:
        points = stored(token, metric)
        assert len(points) == POINTS_PER_METRIC, "a resent batch must not add points"
        assert {point[2] for point in points} == {0.0}


@pytest.fixture()
def running_ingest(token: str, policy: str) -> Iterator[tuple[Ingest, list[Future[None]]]]:
    with ingest_running(token, policy) as running:
        yield running


def wait_healthy(host, name: str) -> None:
    wait_for(f"{name} healthy again", lambda: host.run(
        f"podman healthcheck run {name}").rc == 0, timeout=120)


def test_killing_and_stopping_a_backend_during_ingest_loses_nothing(
        host, token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    ingest, clients = running_ingest
    for backend in ("gnocchi-api-2", "gnocchi-api"):
        assert host.run(f"podman kill --signal KILL {backend}").rc == 0
        time.sleep(2)
        assert host.run(f"podman start {backend}").rc == 0
        wait_healthy(host, backend)
        assert host.run(f"podman stop {backend}").rc == 0
        time.sleep(2)
        assert host.run(f"podman start {backend}").rc == 0
        wait_healthy(host, backend)
    ingest.finish(clients)
    ingest.assert_nothing_lost(token)
