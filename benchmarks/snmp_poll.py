#!/usr/bin/env python3
"""Time one polling cycle of N snmp:// agents: our bulk fetch vs one OID per request.

Run by hand on a host with Debian's snmpd (tools/setup-host.sh installs it; not in CI):

    .venv/bin/python benchmarks/snmp_poll.py                 # N = 1, 10, 50
    .venv/bin/python benchmarks/snmp_poll.py --agents 1 5 --repeat 5

It starts max(N) snmpd agents on loopback ports (each with its own random community), then for
each N times polling the first N agents for the whole meter set in two ways:

- bulk: what the pollsters do, `fetch_host`: one GET for the 17 CPU/memory scalars and one
  lock-step GetBulk walk per table group (ifTable+ifXTable, hrStorageTable, diskIOTable);
- one OID per request: the same scalars as 17 single-OID GETs and every table cell of the same
  columns as its own GETNEXT (what a naive snmpwalk-per-column pollster costs).

Both are timed host after host (the ratio is the cost of the requests); a third column times a
whole pollster cycle as ceilometer runs it (`HostPoller.poll_cached`: bulk fetch of 8 hosts at
once, plus the sample arithmetic for every meter). The best of --repeat runs is printed with the
request counts (counted as sent, retries included) and the ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

from pysnmp.hlapi import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    getCmd,
    nextCmd,
)

from telemetry.snmp import oids
from telemetry.snmp.client import ClientSettings
from telemetry.snmp.fetch import fetch_host
from telemetry.snmp.hwfilter import HardwareFilter
from telemetry.snmp.localagent import LocalAgent
from telemetry.snmp.poller import FILTER_CACHE_KEY, HostPoller
from telemetry.snmp.target import SnmpTarget

SETTINGS = ClientSettings(timeout=5.0, retries=0)
COLUMNS = [*oids.INTERFACE_COLUMNS.values(), *oids.STORAGE_COLUMNS.values(),
           *oids.DISKIO_COLUMNS.values()]
SCALARS = [*oids.CPU_RAW.values(), *oids.MEMORY.values()]


@dataclass(frozen=True)
class Timing:
    """Best wall time of one way of polling N agents, and the SNMP requests it sent."""

    seconds: float
    requests: int


def _dotted(oid: tuple[int, ...]) -> str:
    return ".".join(map(str, oid))


def poll_bulk(targets: list[SnmpTarget]) -> int:
    """The pollsters' way; returns the number of requests sent."""
    return sum(fetch_host(t, SETTINGS).requests for t in targets)


def poll_one_oid_per_request(targets: list[SnmpTarget], engine: SnmpEngine) -> int:
    """The same objects, one OID per GET/GETNEXT; returns the number of requests sent."""
    requests = 0
    for target in targets:
        auth = CommunityData(target.community, mpModel=1)
        transport = UdpTransportTarget((target.host, target.port), timeout=SETTINGS.timeout,
                                       retries=SETTINGS.retries)
        for oid in SCALARS:
            error, status, _, _ = next(getCmd(engine, auth, transport, ContextData(),
                                              ObjectType(ObjectIdentity(_dotted(oid))),
                                              lookupMib=False))
            requests += 1
            if error or status:
                raise RuntimeError(f"{target.url}: {error or status}")
        for column in COLUMNS:
            requests += 1  # the GETNEXT that leaves the column
            for error, status, _, _ in nextCmd(engine, auth, transport, ContextData(),
                                               ObjectType(ObjectIdentity(_dotted(column))),
                                               lexicographicMode=False, lookupMib=False):
                requests += 1
                if error or status:
                    raise RuntimeError(f"{target.url}: {error or status}")
    return requests


def best(repeat: int, poll: Callable[[], int]) -> Timing:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        requests = poll()
        runs.append(Timing(time.perf_counter() - start, requests))
    return min(runs, key=lambda t: t.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    agents = [LocalAgent() for _ in range(max(args.agents))]
    try:
        started = time.perf_counter()
        for agent in agents:
            agent.launch()
        for agent in agents:
            agent.wait_ready(wait_cpu=False)
        print(f"{len(agents)} snmpd agents ready in {time.perf_counter() - started:.1f} s")
        targets = [a.target for a in agents]
        poll_bulk(targets)  # warm up pysnmp (imports, engine, transport setup)
        engine = SnmpEngine()
        poller = HostPoller(SETTINGS, workers=8)
        resources = [a.resource for a in agents]
        poller.poll_cached({FILTER_CACHE_KEY: HardwareFilter()}, resources)  # first cycle
        print(f"{'N':>4} {'bulk s':>9} {'bulk req':>9} {'1-OID s':>9} {'1-OID req':>10} "
              f"{'ratio':>7} {'cycle s':>9}")
        for n in args.agents:
            bulk = best(args.repeat, lambda n=n: poll_bulk(targets[:n]))
            naive = best(args.repeat,
                         lambda n=n: poll_one_oid_per_request(targets[:n], engine))
            cycle = best(args.repeat, lambda n=n: len(poller.poll_cached(
                {FILTER_CACHE_KEY: HardwareFilter()}, resources[:n])))
            print(f"{n:>4} {bulk.seconds:>9.3f} {bulk.requests:>9} {naive.seconds:>9.3f} "
                  f"{naive.requests:>10} {naive.seconds / bulk.seconds:>6.1f}x "
                  f"{cycle.seconds:>9.3f}")
    finally:
        for agent in agents:
            agent.stop()


if __name__ == "__main__":
    main()
