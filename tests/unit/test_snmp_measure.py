"""The sample arithmetic on fixed counters: wraps, agent restarts, CPU shares.

The same code runs against a real snmpd in test_snmp_poll.py; these cases pin down the corner
cases a live agent does not produce on demand.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from telemetry.snmp.fetch import CpuCounters, _disks
from telemetry.snmp.measure import COUNTER32, counter_delta, cpu_percentages

LINUX = CpuCounters(user=1000, nice=0, system=500, idle=8000, wait=100, kernel=0, interrupt=0,
                    softirq=50, steal=10, guest=0, guest_nice=0)


def test_counter_delta_plain_wrap_and_restart() -> None:
    assert counter_delta(10, 25, COUNTER32) == 15
    assert counter_delta(COUNTER32 - 5, 10, COUNTER32) == 15  # wrapped
    assert counter_delta(1_000_000, 10, COUNTER32) is None  # agent restarted
    assert counter_delta(None, 10, COUNTER32) is None


def test_cpu_shares_linux_sum_to_100() -> None:
    after = replace(LINUX, user=1600, system=700, idle=9000, wait=150, softirq=60, steal=20,
                    guest=100)
    shares = cpu_percentages(LINUX, after)
    assert shares is not None
    total = 600 + 200 + 1000 + 50 + 10 + 10
    assert shares.user == pytest.approx(100 * 600 / total)
    assert shares.system == pytest.approx(100 * 200 / total)
    assert shares.kernel == 0
    assert shares.guest == pytest.approx(100 * 100 / total)  # inside user, not added
    parts = (shares.user + shares.nice + shares.system + shares.idle + shares.wait
             + shares.interrupt + shares.softinterrupt + shares.steal)
    assert parts == pytest.approx(100)
    assert shares.util == pytest.approx(100 - shares.idle)


def test_cpu_shares_use_kernel_where_system_includes_interrupts() -> None:
    # BSD: ssCpuRawSystem = kernel + interrupt, ssCpuRawKernel filled.
    before = replace(LINUX, system=600, kernel=500, interrupt=100)
    after = replace(before, user=1100, system=800, kernel=650, interrupt=150, idle=8200)
    shares = cpu_percentages(before, after)
    assert shares is not None
    total = 100 + 150 + 50 + 200
    assert shares.kernel == pytest.approx(100 * 150 / total)
    assert shares.idle == pytest.approx(100 * 200 / total)


def test_no_shares_without_an_interval_or_after_restart() -> None:
    assert cpu_percentages(LINUX, LINUX) is None
    assert cpu_percentages(LINUX, replace(LINUX, user=3, system=2, idle=9)) is None


def test_counter32_wrap_in_cpu_ticks() -> None:
    before = replace(LINUX, user=COUNTER32 - 100)
    shares = cpu_percentages(before, replace(before, user=100, idle=LINUX.idle + 200))
    assert shares is not None
    assert shares.user == pytest.approx(50)


def test_a_name_listed_twice_keeps_its_newest_row() -> None:
    # snmpd can list a device twice while containers come and go; resource ids must stay unique.
    table = {"device": {(1,): b"sda", (2,): b"veth0", (7,): b"veth0"},
             "reads": {(1,): 1, (2,): 2, (7,): 7}, "writes": {}, "read_bytes": {},
             "written_bytes": {}}
    disks = _disks(table)
    assert [(d.index, d.device, d.reads) for d in disks] == [(1, "sda", 1), (7, "veth0", 7)]
