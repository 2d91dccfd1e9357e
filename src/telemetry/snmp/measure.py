"""Turn host snapshots into measurements (meter, volume, resource), without ceilometer.

Percentages and per-second averages need two polls: CPU states come from the raw tick counters
(ssCpuRaw*), so they are the share of the interval since the previous poll, right on a busy host
(unlike ssCpuUser and friends, which are integer one-minute averages). The first poll of a host
yields no CPU percentage and no `.average` samples. A counter going backwards by less than half
its range means the agent restarted: that interval is skipped instead of producing a spike.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from telemetry.snmp.fetch import CpuCounters, DiskIO, HostSnapshot, Interface
from telemetry.snmp.hwfilter import HardwareFilter
from telemetry.snmp.meters import METERS

COUNTER32 = 2**32
COUNTER64 = 2**64
IF_OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant",
                  6: "notPresent", 7: "lowerLayerDown"}

Metadata = dict[str, str | int | None]


@dataclass(frozen=True)
class Measurement:
    """One future sample: the meter's type and unit come from `meters.METERS`."""

    name: str
    type: str
    unit: str
    volume: float
    resource_id: str
    timestamp: datetime
    metadata: Metadata


@dataclass(frozen=True)
class CpuPercentages:
    """Share of CPU time per state over one interval, in %, named as the meters are."""

    user: float
    nice: float
    wait: float
    system: float
    idle: float
    steal: float
    softinterrupt: float
    interrupt: float
    kernel: float
    guest: float
    guestnice: float
    util: float


def counter_delta(previous: int | None, current: int | None, modulus: int) -> int | None:
    """Increase of a wrapping counter; None when unknown or when the agent restarted."""
    if previous is None or current is None:
        return None
    if current >= previous:
        return current - previous
    if previous - current > modulus // 2:
        return current + modulus - previous
    return None


def cpu_percentages(previous: CpuCounters, current: CpuCounters) -> CpuPercentages | None:
    """CPU state shares between two readings; None when there is no usable interval.

    The disjoint states that make up 100 % are user, nice, kernel time, idle, wait, interrupt,
    softirq and steal. Kernel time is ssCpuRawKernel where the agent fills it (BSD, Solaris,
    where ssCpuRawSystem also holds interrupts) and ssCpuRawSystem where ssCpuRawKernel stays 0
    (net-snmp on Linux). guest and guest_nice are already inside user and nice (Linux accounts
    them there), so they are reported but not added. util = 100 - idle.
    """
    delta = {f.name: counter_delta(getattr(previous, f.name), getattr(current, f.name), COUNTER32)
             for f in fields(CpuCounters)}
    if any(delta[k] is None for k in ("user", "system", "idle")):
        return None
    d = {k: v or 0 for k, v in delta.items()}
    kernel_time = d["kernel"] if current.kernel else d["system"]
    total = (d["user"] + d["nice"] + kernel_time + d["idle"] + d["wait"] + d["interrupt"]
             + d["softirq"] + d["steal"])
    if total <= 0:
        return None

    def pct(ticks: int) -> float:
        return min(100.0, max(0.0, 100.0 * ticks / total))

    idle = pct(d["idle"])
    return CpuPercentages(
        user=pct(d["user"]), nice=pct(d["nice"]), wait=pct(d["wait"]), system=pct(d["system"]),
        idle=idle, steal=pct(d["steal"]), softinterrupt=pct(d["softirq"]),
        interrupt=pct(d["interrupt"]), kernel=pct(d["kernel"]), guest=pct(d["guest"]),
        guestnice=pct(d["guest_nice"]), util=round(100.0 - idle, 6))


def safe_id(name: str) -> str:
    """A device name usable in a gnocchi resource id, which must not contain '/'."""
    return name.replace("/", "_") or "_"


class _Builder:
    """Collects measurements for one snapshot (keeps the per-kind helpers short)."""

    def __init__(self, snapshot: HostSnapshot) -> None:
        self.snapshot = snapshot
        self.host_id = snapshot.target.host_id
        self.url = snapshot.target.url
        self.out: list[Measurement] = []

    def add(self, name: str, volume: float | None, resource_id: str, metadata: Metadata) -> None:
        if volume is None:
            return
        spec = METERS[name]
        self.out.append(Measurement(name=name, type=spec.type, unit=spec.unit, volume=volume,
                                    resource_id=resource_id, timestamp=self.snapshot.timestamp,
                                    metadata={"resource_url": self.url, **metadata}))

    def host(self, name: str, volume: float | None) -> None:
        self.add(name, volume, self.host_id, {})


def _cpu(b: _Builder, previous: HostSnapshot | None) -> None:
    if previous is None:
        return
    shares = cpu_percentages(previous.cpu, b.snapshot.cpu)
    if shares is None:
        return
    for field in fields(CpuPercentages):
        b.host(f"custom.hardware.cpu.{field.name}.percentage", getattr(shares, field.name))


def _percent(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None:
        return None
    return 100.0 * part / whole if whole > 0 else 0.0


def _memory(b: _Builder) -> None:
    m = b.snapshot.memory
    used = None
    if m.total is not None and m.avail is not None:
        used = max(0, m.total - m.avail - (m.buffer or 0) - (m.cached or 0))
    b.host("custom.hardware.memory.total", m.total)
    b.host("custom.hardware.memory.used", used)
    b.host("custom.hardware.memory.cached", m.cached)
    b.host("custom.hardware.memory.buffer", m.buffer)
    b.host("custom.hardware.memory.utilization", _percent(used, m.total))
    b.host("custom.hardware.swap.total", m.swap_total)
    b.host("custom.hardware.swap.avail", m.swap_avail)
    swap_used = None if m.swap_total is None or m.swap_avail is None else (
        max(0, m.swap_total - m.swap_avail))
    b.host("custom.hardware.swap.utilization", _percent(swap_used, m.swap_total))


def _interface(b: _Builder, iface: Interface) -> None:
    rid = f"{b.host_id}.{safe_id(iface.name)}"
    status = IF_OPER_STATUS.get(iface.oper_status or 0, "unknown")
    meta: Metadata = {"name": iface.name, "descr": iface.descr, "mac": iface.mac,
                      "speed": iface.speed_mbps, "if_index": iface.index, "status": status}
    for direction, prefix in (("incoming", "in"), ("outgoing", "out")):
        base = f"hardware.network.{direction}"
        b.add(f"{base}.bytes", getattr(iface, f"{prefix}_octets"), rid, meta)
        b.add(f"{base}.packets", getattr(iface, f"{prefix}_packets"), rid, meta)
        b.add(f"{base}.errors", getattr(iface, f"{prefix}_errors"), rid, meta)
        b.add(f"{base}.drop", getattr(iface, f"{prefix}_discards"), rid, meta)
    if iface.oper_status is not None:
        b.add("custom.hardware.network.interface.status", 1 if iface.oper_status == 1 else 0,
              rid, meta)


def _disk_io(b: _Builder, disk: DiskIO, previous: DiskIO | None, seconds: float) -> None:
    rid = f"{b.host_id}.{safe_id(disk.device)}"
    meta: Metadata = {"device": disk.device, "path": None}
    pairs = (("read.bytes", "read_bytes"), ("write.bytes", "written_bytes"),
             ("read.requests", "reads"), ("write.requests", "writes"))
    for meter, attr in pairs:
        value = getattr(disk, attr)
        b.add(f"custom.hardware.disk.{meter}", value, rid, meta)
        if previous is None or seconds <= 0:
            continue
        # Operation counts are Counter32, byte counts Counter64.
        modulus = COUNTER64 if meter.endswith("bytes") else COUNTER32
        delta = counter_delta(getattr(previous, attr), value, modulus)
        if delta is not None:
            b.add(f"custom.hardware.disk.{meter}.average", delta / seconds, rid, meta)


def build_measurements(snapshot: HostSnapshot, previous: HostSnapshot | None,
                       hw_filter: HardwareFilter) -> list[Measurement]:
    """Every meter's measurements for one host poll, given the host's previous poll (or None)."""
    b = _Builder(snapshot)
    _cpu(b, previous)
    _memory(b)
    for iface in snapshot.interfaces:
        if hw_filter.keep_interface(iface.name, iface.descr):
            _interface(b, iface)
    for fs in snapshot.filesystems:
        if hw_filter.keep_disk(fs.path):
            rid = f"{b.host_id}.{safe_id(fs.path)}"
            meta: Metadata = {"device": fs.path, "path": fs.path}
            b.add("custom.hardware.disk.size.total", fs.size_bytes // 1024, rid, meta)
            b.add("custom.hardware.disk.size.used", fs.used_bytes // 1024, rid, meta)
            b.add("custom.hardware.disk.utilization", _percent(fs.used_bytes, fs.size_bytes),
                  rid, meta)
    before = {d.device: d for d in previous.disks} if previous else {}
    seconds = snapshot.monotonic - previous.monotonic if previous else 0.0
    for disk in snapshot.disks:
        if hw_filter.keep_disk(disk.device):
            _disk_io(b, disk, before.get(disk.device), seconds)
    return b.out
