"""Fetch everything the meters need from one host: one GET and three bulk walks per poll.

The result is a typed snapshot of raw values; turning two snapshots into samples is `measure`'s
job, so this module stays a thin, testable translation of SNMP tables into dataclasses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from telemetry.snmp import oids
from telemetry.snmp.client import ClientSettings, SnmpClient, Value
from telemetry.snmp.target import SnmpTarget

T = TypeVar("T")


@dataclass(frozen=True)
class CpuCounters:
    """UCD-SNMP-MIB ssCpuRaw* ticks (all CPUs summed); None where the agent lacks the object."""

    user: int | None
    nice: int | None
    system: int | None
    idle: int | None
    wait: int | None
    kernel: int | None
    interrupt: int | None
    softirq: int | None
    steal: int | None
    guest: int | None
    guest_nice: int | None


@dataclass(frozen=True)
class Memory:
    """UCD-SNMP-MIB memory objects, in kB."""

    total: int | None
    avail: int | None
    buffer: int | None
    cached: int | None
    swap_total: int | None
    swap_avail: int | None


@dataclass(frozen=True)
class Interface:
    """One IF-MIB row (ifTable + ifXTable): 64-bit octet/packet counters, 32-bit errors."""

    index: int
    name: str
    descr: str
    mac: str
    oper_status: int | None
    speed_mbps: int | None
    in_octets: int | None
    out_octets: int | None
    in_packets: int | None
    out_packets: int | None
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None


@dataclass(frozen=True)
class Filesystem:
    """One hrStorageTable row of type hrStorageFixedDisk, sizes converted to bytes."""

    index: int
    path: str
    size_bytes: int
    used_bytes: int


@dataclass(frozen=True)
class DiskIO:
    """One diskIOTable row: cumulative bytes (64-bit) and operation counts since boot."""

    index: int
    device: str
    read_bytes: int | None
    written_bytes: int | None
    reads: int | None
    writes: int | None


@dataclass(frozen=True)
class HostSnapshot:
    """Everything read from one agent in one poll, with when it was read."""

    target: SnmpTarget
    timestamp: datetime
    monotonic: float
    cpu: CpuCounters
    memory: Memory
    interfaces: tuple[Interface, ...]
    filesystems: tuple[Filesystem, ...]
    disks: tuple[DiskIO, ...]
    requests: int


def _int(value: Value) -> int | None:
    return value if isinstance(value, int) else None


def _text(value: Value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _mac(value: Value) -> str:
    return ":".join(f"{b:02x}" for b in value) if isinstance(value, bytes) else ""


def _index(row: tuple[int, ...]) -> int:
    return row[0] if len(row) == 1 else -1


def _unique(items: list[T], name: Callable[[T], str]) -> tuple[T, ...]:
    """One item per name, the last (highest index) winning.

    Names are the resource ids: while interfaces or mounts come and go (containers starting),
    snmpd can list a name twice for a moment, and two samples must not share one resource.
    """
    last = {name(item): position for position, item in enumerate(items) if name(item)}
    return tuple(items[position] for position in sorted(last.values()))


def _interfaces(table: dict[str, dict[tuple[int, ...], Value]]) -> tuple[Interface, ...]:
    def total(row: tuple[int, ...], *keys: str) -> int | None:
        values = [_int(table[k].get(row)) for k in keys]
        return None if any(v is None for v in values) else sum(v for v in values if v)

    rows = sorted(set(table["descr"]) | set(table["name"]))
    return _unique([
        Interface(
            index=_index(row),
            name=_text(table["name"].get(row)) or _text(table["descr"].get(row)),
            descr=_text(table["descr"].get(row)),
            mac=_mac(table["mac"].get(row)),
            oper_status=_int(table["oper_status"].get(row)),
            speed_mbps=_int(table["high_speed"].get(row)),
            in_octets=_int(table["in_octets"].get(row)),
            out_octets=_int(table["out_octets"].get(row)),
            in_packets=total(row, "in_ucast", "in_mcast", "in_bcast"),
            out_packets=total(row, "out_ucast", "out_mcast", "out_bcast"),
            in_errors=_int(table["in_errors"].get(row)),
            out_errors=_int(table["out_errors"].get(row)),
            in_discards=_int(table["in_discards"].get(row)),
            out_discards=_int(table["out_discards"].get(row)),
        )
        for row in rows
    ], lambda iface: iface.name)


def _filesystems(table: dict[str, dict[tuple[int, ...], Value]]) -> tuple[Filesystem, ...]:
    result = []
    for row, kind in sorted(table["type"].items()):
        units, size, used = (_int(table[k].get(row)) for k in ("units", "size", "used"))
        if kind != oids.HR_STORAGE_FIXED_DISK or not units or not size or used is None:
            continue
        result.append(Filesystem(index=_index(row), path=_text(table["descr"].get(row)),
                                 size_bytes=size * units, used_bytes=used * units))
    return _unique(result, lambda fs: fs.path)


def _disks(table: dict[str, dict[tuple[int, ...], Value]]) -> tuple[DiskIO, ...]:
    return _unique([
        DiskIO(
            index=_index(row),
            device=_text(device),
            read_bytes=_int(table["read_bytes"].get(row)),
            written_bytes=_int(table["written_bytes"].get(row)),
            reads=_int(table["reads"].get(row)),
            writes=_int(table["writes"].get(row)),
        )
        for row, device in sorted(table["device"].items())
    ], lambda disk: disk.device)


def fetch_host(target: SnmpTarget, settings: ClientSettings | None = None) -> HostSnapshot:
    """Read one agent: one GET for the CPU and memory scalars, then bulk walks of the tables.

    The GET goes first: when the agent is down or rejects the community it is the only request
    that waits out the timeout. snmpd answers at most 100 varbinds per GetBulk
    (maxGetbulkResponses), so a host costs about 5 requests. Raises `SnmpError`.
    """
    client = SnmpClient(target, settings)
    scalars = client.get([*oids.CPU_RAW.values(), *oids.MEMORY.values()])
    timestamp, monotonic = datetime.now(UTC), time.monotonic()
    cpu = CpuCounters(**{k: _int(scalars.get(o)) for k, o in oids.CPU_RAW.items()})
    memory = Memory(**{k: _int(scalars.get(o)) for k, o in oids.MEMORY.items()})
    interfaces = _interfaces(client.walk(oids.INTERFACE_COLUMNS))
    filesystems = _filesystems(client.walk(oids.STORAGE_COLUMNS))
    disks = _disks(client.walk(oids.DISKIO_COLUMNS))
    return HostSnapshot(target=target, timestamp=timestamp, monotonic=monotonic, cpu=cpu,
                        memory=memory, interfaces=interfaces, filesystems=filesystems,
                        disks=disks, requests=client.requests)
