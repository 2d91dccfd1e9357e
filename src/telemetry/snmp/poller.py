"""One SNMP fetch per host and polling cycle, shared by every meter's pollster.

Ceilometer runs one pollster object per meter and hands all of a cycle's pollsters the same
`cache` dict. The first pollster to ask for the hosts fetches them (several at once, so a few
agents that are down cost one timeout, not one each) and computes every meter's measurements;
the other 39 read them from the cache. The previous snapshot per host (needed for CPU
percentages and `.average` rates) lives in the `HostPoller` across cycles.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from telemetry.snmp.client import ClientSettings, SnmpError
from telemetry.snmp.fetch import HostSnapshot, fetch_host
from telemetry.snmp.hwfilter import HardwareFilter, load_filter
from telemetry.snmp.measure import Measurement, build_measurements
from telemetry.snmp.target import TargetError, parse_target

LOG = logging.getLogger(__name__)
CACHE_KEY = "telemetry.snmp.hosts"
FILTER_CACHE_KEY = "telemetry.snmp.filter"


@dataclass(frozen=True)
class PollResult:
    """What one host gave in one cycle: measurements, or the error (logged once)."""

    url: str
    measurements: tuple[Measurement, ...] = ()
    error: str | None = None


def workers_from_env() -> int:
    """Hosts fetched at once: TELEMETRY_SNMP_WORKERS, default 8."""
    return max(1, int(os.environ.get("TELEMETRY_SNMP_WORKERS", "8")))


def settings_from_env() -> ClientSettings:
    """Timeout and retries from TELEMETRY_SNMP_TIMEOUT / TELEMETRY_SNMP_RETRIES if set."""
    defaults = ClientSettings()
    return ClientSettings(
        timeout=float(os.environ.get("TELEMETRY_SNMP_TIMEOUT", defaults.timeout)),
        retries=int(os.environ.get("TELEMETRY_SNMP_RETRIES", defaults.retries)),
        max_repetitions=defaults.max_repetitions)


class HostPoller:
    """Polls snmp:// resources, remembering each host's previous snapshot."""

    def __init__(self, settings: ClientSettings | None = None, workers: int | None = None) -> None:
        self.settings = settings
        self.workers = workers or workers_from_env()
        self._previous: dict[str, HostSnapshot] = {}
        self._lock = threading.Lock()
        # Kept across cycles: its threads keep their pysnmp engines (see client._engine).
        self._pool: ThreadPoolExecutor | None = None

    def poll(self, resource: str, hw_filter: HardwareFilter) -> PollResult:
        """Fetch one host now; failures are logged (without the community) and returned."""
        try:
            target = parse_target(resource)
        except TargetError as err:
            LOG.error("SNMP host pollster: skipping resource: %s", err)
            return PollResult(url="<invalid>", error=str(err))
        try:
            snapshot = fetch_host(target, self.settings or settings_from_env())
        except SnmpError as err:
            LOG.error("SNMP agent %s did not answer (agent down, unreachable or wrong "
                      "community); no samples this cycle: %s", target.url, err.reason)
            return PollResult(url=target.url, error=str(err))
        except Exception as err:  # a pysnmp or arithmetic surprise must not stop the cycle
            LOG.error("SNMP poll of %s failed; no samples this cycle: %s", target.url, err,
                      exc_info=True)
            return PollResult(url=target.url, error=str(err))
        with self._lock:
            previous = self._previous.get(target.url)
            self._previous[target.url] = snapshot
        try:
            measurements = tuple(build_measurements(snapshot, previous, hw_filter))
        except Exception as err:
            LOG.error("SNMP samples of %s could not be computed: %s", target.url, err,
                      exc_info=True)
            return PollResult(url=target.url, error=str(err))
        return PollResult(url=target.url, measurements=measurements)

    def poll_cached(self, cache: dict, resources: list[str]) -> list[PollResult]:
        """Results for `resources`, fetching only hosts not yet polled in this cycle's cache."""
        with self._lock:
            hosts = cache.setdefault(CACHE_KEY, {})
            if FILTER_CACHE_KEY not in cache:
                cache[FILTER_CACHE_KEY] = load_filter()
            hw_filter = cache[FILTER_CACHE_KEY]
        missing = [r for r in dict.fromkeys(resources) if r not in hosts]
        if len(missing) == 1 or self.workers == 1:
            fetched = [self.poll(r, hw_filter) for r in missing]
        elif missing:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="snmp-poll")
            fetched = list(self._pool.map(lambda r: self.poll(r, hw_filter), missing))
        else:
            fetched = []
        hosts.update(zip(missing, fetched, strict=True))
        return [hosts[r] for r in resources]


_shared: HostPoller | None = None
_shared_lock = threading.Lock()


def shared_poller() -> HostPoller:
    """The process-wide poller every pollster object uses (one history per agent process)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = HostPoller()
        return _shared
