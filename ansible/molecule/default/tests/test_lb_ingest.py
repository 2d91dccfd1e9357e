"""Molecule verify: batch ingest through the load balancer loses nothing when a gnocchi-api
backend is killed or stopped while requests are in flight.

Why the load balancer may resend a measure POST (the catalog's idempotent_posts): gnocchi keeps
one point per timestamp, so a batch stored twice is stored once. The first test proves that on
this gnocchi; the second that a read of the same paths is not resent (it waits for its
backend); the third kills and stops each backend during ingest from four threads, then
stalls one while the other is down, and counts: 0 failed requests, every measure
acknowledged reads back, and ceilometer gave up none of its own writes meanwhile.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
# Longer than two of the LB's resend timeouts: the stalled backend times out as a primary
# and again as its backup copy.
STALL_SECONDS = 12


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


def test_a_slow_read_of_measures_waits_for_its_backend_and_is_asked_once(
        host, token: str, policy: str) -> None:
    # Measure writes are resent after 5 s; a read of the same path must not be: both backends
    # stall 8 s, and the read waits for the first one instead of going round them all.
    metric = new_metric(token, policy)
    since = int(time.time()) - 1
    reader = ThreadPoolExecutor(1)
    try:
        for backend in ("gnocchi-api", "gnocchi-api-2"):
            assert host.run(f"podman pause {backend}").rc == 0
        read = reader.submit(request, f"{GNOCCHI}/metric/{metric}/measures", token)
        time.sleep(8)
    finally:
        for backend in ("gnocchi-api", "gnocchi-api-2"):
            host.run(f"podman unpause {backend}")
        reader.shutdown()
    status, _, measures = read.result()
    assert (status, measures) == (200, [])
    # nginx logs a request after answering it, and podman's log file takes its output a moment
    # later still: the line may not be there yet when the answer is.
    logged = wait_for("nginx's access log line of the read", lambda: [
        line for line in nginx_log(host, since, "stdout").splitlines()
        if f"GET /v1/metric/{metric}/measures " in line], timeout=30)
    assert len(logged) == 1, logged
    assert re.search(r'upstreams="[\d.]+:\d+" upstream_statuses="200"', logged[0]), logged


@pytest.fixture()
def running_ingest(token: str, policy: str) -> Iterator[tuple[Ingest, list[Future[None]]]]:
    with ingest_running(token, policy) as running:
        yield running


def wait_healthy(host, name: str) -> None:
    wait_for(f"{name} healthy again", lambda: host.run(
        f"podman healthcheck run {name}").rc == 0, timeout=120)


def nginx_log(host, since: int, stream: str) -> str:
    """nginx's access log (stream "stdout") or error log ("stderr") since a Unix time."""
    redirect = "2>/dev/null" if stream == "stdout" else "2>&1 >/dev/null"
    return host.run(f"podman logs --since {since} nginx {redirect}").stdout


def lb_failures(host, since: int) -> str:
    """Why a request the clients saw fail failed: nginx's access log lines of the requests it
    answered with an error, each listing every backend tried with that one's answer (502
    refused, 504 timed out) and time, then its error log's lines other than the refused
    connections every backend restart causes."""
    failed = [line for line in nginx_log(host, since, "stdout").splitlines()
              if re.search(r'" [45]\d\d ', line)]
    errors = [line for line in nginx_log(host, since, "stderr").splitlines()
              if "connect() failed (111" not in line]
    return "nginx's failed requests:\n{}\nnginx's errors but refused connections:\n{}".format(
        "\n".join(failed[-8:]), "\n".join(errors[-8:]))


def given_up_by_ceilometer(host, since: int) -> list[str]:
    """The writes ceilometer-agent-notification stopped waiting for (nginx's 499: the client
    closed the connection first): ceilometer drops such a batch of samples."""
    return [line for line in nginx_log(host, since, "stdout").splitlines()
            if '" 499 ' in line and "ceilometer" in line]


def test_killing_stopping_and_stalling_backends_during_ingest_loses_nothing(
        host, token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    since = int(time.time()) - 5  # the ingest began 2 s before the test
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
    # The one live backend stalls past the LB's resend timeout (5 s) while the other is down:
    # nginx marks both failed and its fast pass fails everywhere; the patient pass waits.
    assert host.run("podman stop gnocchi-api").rc == 0
    assert host.run("podman pause gnocchi-api-2").rc == 0
    time.sleep(STALL_SECONDS)
    assert host.run("podman unpause gnocchi-api-2").rc == 0
    assert host.run("podman start gnocchi-api").rc == 0
    wait_healthy(host, "gnocchi-api")
    ingest.finish(clients)
    ingest.assert_nothing_lost(token, lambda: lb_failures(host, since))
    # ceilometer's own writes (this host's SNMP samples) waited as long, none dropped.
    given_up = given_up_by_ceilometer(host, since)
    assert given_up == [], f"ceilometer gave up {len(given_up)} writes: {given_up[:2]}"
