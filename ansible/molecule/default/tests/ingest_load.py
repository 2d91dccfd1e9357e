"""Batch ingest through the load balancer, as the failure tests drive it (the default and
multinode scenarios): clients that each own metrics and post their numbered batches in order,
counting what was acknowledged and what failed, and the counts read back."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from stack_api import GNOCCHI, request

POLICY = "molecule-1s-late"  # 1 s granularity, a million points, an hour of back window
METRICS = 12
POINTS_PER_METRIC = 50  # per batch of a client's 3 metrics: 150 measures a POST
CLIENTS = 4
FIRST_TIMESTAMP = 1_600_000_000
# Every second a batch writes is kept: far more than four clients send in the test's minutes.
POLICY_POINTS = 1_000_000
# Each client's batches of a metric arrive in order; the back window is only slack.
BACK_WINDOW = 3600


def create_policy(token: str) -> str:
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


class Ingest:
    """CLIENTS threads posting numbered batches through the LB until stopped. Each client owns
    its metrics and sends their batches in order, one at a time, as a ceilometer publisher
    does: gnocchi drops a point that arrives back_window behind the newest it processed, so
    batches of one metric that overtake each other would lose points the LB never lost."""

    def __init__(self, token: str, metrics: list[str], resend_failed: bool = False) -> None:
        self.token = token
        self.owned = [metrics[index::CLIENTS] for index in range(CLIENTS)]
        self.sent = [0] * CLIENTS
        self.acknowledged = 0
        self.failures: list[tuple[int, Any]] = []
        # resend_failed: a client that sends a failed batch again until it is acknowledged (as
        # a publisher with retries would); each failed try is kept in `resent`, with its time.
        self.resend_failed = resend_failed
        self.resent: list[tuple[int, str, float]] = []
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
                elif self.resend_failed:
                    self.resent.append((status, str(reply)[:200], time.time()))
                    self.sent[index] -= 1  # the same batch again, after a pause
                else:
                    self.failures.append((status, str(reply)[:200], time.strftime("%T")))
            if status != 202 and self.resend_failed:
                time.sleep(1)

    def finish(self, clients: list[Future[None]]) -> None:
        """Stop taking new batches and wait for every one in flight to be answered."""
        time.sleep(2)
        self.stopping.set()
        for client in clients:
            client.result(timeout=120)

    def expected_points(self, metric: str) -> int:
        owner = next(index for index, owned in enumerate(self.owned) if metric in owned)
        return self.sent[owner] * POINTS_PER_METRIC

    def assert_nothing_lost(self, token: str,
                            why_failed: Callable[[], str] | None = None) -> None:
        """0 failed requests, and every acknowledged measure reads back. why_failed: what to
        add to a failure's message (e.g. the LB's error log), read only when one failed."""
        assert self.failures == [], (f"{len(self.failures)} of {self.batches} failed, "
                                     f"first: {self.failures[:3]}"
                                     + (f"; {why_failed()}" if why_failed else ""))
        assert self.acknowledged == self.batches > 50, "the ingest spans the failures"
        for metric in self.metrics:
            expected = self.expected_points(metric)
            assert expected <= POLICY_POINTS, "the archive policy must keep every point sent"
            assert len(stored(token, metric)) == expected, metric


@contextlib.contextmanager
def ingest_running(token: str, policy: str, resend_failed: bool = False
                   ) -> Iterator[tuple[Ingest, list[Future[None]]]]:
    """CLIENTS clients ingesting into METRICS new metrics until the block ends (or
    Ingest.finish)."""
    ingest = Ingest(token, [new_metric(token, policy) for _ in range(METRICS)], resend_failed)
    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = [pool.submit(ingest.client, index) for index in range(CLIENTS)]
        time.sleep(2)
        try:
            yield ingest, clients
        finally:
            ingest.stopping.set()
