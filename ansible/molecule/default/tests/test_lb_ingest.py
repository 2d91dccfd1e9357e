"""Molecule verify: batch ingest through the load balancer loses nothing when a gnocchi-api
backend is killed or stopped while requests are in flight.

Why the load balancer may resend a measure POST (the catalog's idempotent_posts): gnocchi keeps
one point per timestamp, so a batch stored twice is stored once. The first test proves that on
this gnocchi; the second kills and stops each backend during ingest from four threads and
counts: 0 failed requests, and every measure acknowledged reads back.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_api import GNOCCHI, issue_token, request, wait_for

CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
POLICY = "molecule-1s-late"  # 1 s granularity, a million points, an hour of back window
METRICS = 12
POINTS_PER_METRIC = 50  # per batch of a client's 3 metrics: 150 measures a POST
CLIENTS = 4
FIRST_TIMESTAMP = 1_600_000_000
# Every second a batch writes is kept: far more than four clients send in the test's minutes.
POLICY_POINTS = 1_000_000
# Each client's batches of a metric arrive in order; the back window is only slack.
BACK_WINDOW = 3600


@pytest.fixture(scope="module")
def token() -> str:
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    return issue_token("admin", passwords["keystone_admin_password"], "admin")


@pytest.fixture(scope="module")
def policy(token: str) -> str:
    status, _, reply = request(f"{GNOCCHI}/archive_policy", token, {
        "name": POLICY, "back_window": BACK_WINDOW,
        "definition": [{"granularity": "1s", "points": POLICY_POINTS}]})
    assert status in (201, 409), reply
    return POLICY


def new_metric(token: str, policy: str) -> str:
    status, _, metric = request(f"{GNOCCHI}/metric", token, {"archive_policy_name": policy})
    assert status == 201, metric
    return metric["id"]


def batch(metrics: list[str], number: int) -> dict[str, list[dict[str, Any]]]:
    """Batch `number`: its own POINTS_PER_METRIC seconds for every metric."""
    start = FIRST_TIMESTAMP + number * POINTS_PER_METRIC
    return {metric: [{"timestamp": start + second, "value": float(number)}
                     for second in range(POINTS_PER_METRIC)] for metric in metrics}


def stored(token: str, metric: str) -> list[list[Any]]:
    status, _, points = request(f"{GNOCCHI}/metric/{metric}/measures?refresh=true"
                                "&granularity=1", token)
    assert status == 200, points
    return points


def test_a_batch_sent_twice_is_stored_once(token: str, policy: str) -> None:
    metrics = [new_metric(token, policy) for _ in range(2)]
    for _ in range(2):
        status, _, reply = request(f"{GNOCCHI}/batch/metrics/measures", token, batch(metrics, 0))
        assert status == 202, reply
    for metric in metrics:
        points = stored(token, metric)
        assert len(points) == POINTS_PER_METRIC, "a resent batch must not add points"
        assert {point[2] for point in points} == {0.0}


class Ingest:
    """CLIENTS threads posting numbered batches through the LB until stopped. Each client owns
    its metrics and sends their batches in order, one at a time, as a ceilometer publisher
    does: gnocchi drops a point that arrives back_window behind the newest it processed, so
    batches of one metric that overtake each other would lose points the LB never lost."""

    def __init__(self, token: str, metrics: list[str]) -> None:
        self.token = token
        self.owned = [metrics[index::CLIENTS] for index in range(CLIENTS)]
        self.sent = [0] * CLIENTS
        self.acknowledged = 0
        self.failures: list[tuple[int, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def metrics(self) -> list[str]:
        return [metric for owned in self.owned for metric in owned]

    @property
    def batches(self) -> int:
        return sum(self.sent)

    def client(self, index: int) -> None:
        while not self.stopping.is_set():
            number = self.sent[index]
            self.sent[index] += 1
            try:
                status, _, reply = request(f"{GNOCCHI}/batch/metrics/measures", self.token,
                                           batch(self.owned[index], number))
            except OSError as error:  # refused or reset: what a client of a dead LB sees
                status, reply = 0, error
            with self.lock:
                if status == 202:
                    self.acknowledged += 1
                else:
                    self.failures.append((status, str(reply)[:200]))

    def finish(self, clients: list[Future[None]]) -> None:
        """Stop taking new batches and wait for every one in flight to be answered."""
        time.sleep(2)
        self.stopping.set()
        for client in clients:
            client.result(timeout=120)

    def expected_points(self, metric: str) -> int:
        owner = next(index for index, owned in enumerate(self.owned) if metric in owned)
        return self.sent[owner] * POINTS_PER_METRIC


@pytest.fixture()
def running_ingest(token: str, policy: str) -> Iterator[tuple[Ingest, list[Future[None]]]]:
    ingest = Ingest(token, [new_metric(token, policy) for _ in range(METRICS)])
    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = [pool.submit(ingest.client, index) for index in range(CLIENTS)]
        time.sleep(2)
        try:
            yield ingest, clients
        finally:
            ingest.stopping.set()


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
    assert ingest.failures == [], f"{len(ingest.failures)} of {ingest.batches} failed"
    assert ingest.acknowledged == ingest.batches > 50, "the ingest spans the failures"
    for metric in ingest.metrics:
        expected = ingest.expected_points(metric)
        assert expected <= POLICY_POINTS, "the archive policy must keep every point sent"
        assert len(stored(token, metric)) == expected, metric
