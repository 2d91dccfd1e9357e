"""The meter catalog: every meter of polling.yaml's hardware_snmp and user_defined sources.

Names, sample types and units in one table, so the adapter, the setup.cfg entry points and the
tests agree. Units follow the old ceilometer hardware meters: kB where UCD-SNMP-MIB and disk
sizes count kB, B for bytes, packet for packets, % for percentages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Which gnocchi resource type (gnocchi_resources.yaml) a meter's samples land on."""

    HOST = "host"
    INTERFACE = "host_network_interface"
    DISK = "host_disk"


GAUGE, CUMULATIVE, DELTA = "gauge", "cumulative", "delta"


@dataclass(frozen=True)
class MeterSpec:
    """One meter: its sample type, unit and resource kind."""

    name: str
    type: str
    unit: str
    kind: Kind


def _specs() -> dict[str, MeterSpec]:
    specs = []
    for direction in ("incoming", "outgoing"):
        specs += [
            MeterSpec(f"hardware.network.{direction}.bytes", CUMULATIVE, "B", Kind.INTERFACE),
            MeterSpec(f"hardware.network.{direction}.packets", CUMULATIVE, "packet",
                      Kind.INTERFACE),
            MeterSpec(f"hardware.network.{direction}.errors", CUMULATIVE, "packet",
                      Kind.INTERFACE),
            MeterSpec(f"hardware.network.{direction}.drop", CUMULATIVE, "packet", Kind.INTERFACE),
        ]
    specs += [MeterSpec(f"custom.hardware.cpu.{state}.percentage", GAUGE, "%", Kind.HOST)
              for state in CPU_STATES]
    specs += [MeterSpec(f"custom.hardware.memory.{m}", GAUGE, "KB", Kind.HOST)
              for m in ("used", "total", "cached", "buffer")]
    specs += [
        MeterSpec("custom.hardware.memory.utilization", GAUGE, "%", Kind.HOST),
        MeterSpec("custom.hardware.swap.avail", GAUGE, "KB", Kind.HOST),
        MeterSpec("custom.hardware.swap.total", GAUGE, "KB", Kind.HOST),
        MeterSpec("custom.hardware.swap.utilization", GAUGE, "%", Kind.HOST),
        MeterSpec("custom.hardware.network.interface.status", GAUGE, "status", Kind.INTERFACE),
        MeterSpec("custom.hardware.disk.size.used", GAUGE, "KB", Kind.DISK),
        MeterSpec("custom.hardware.disk.size.total", GAUGE, "KB", Kind.DISK),
        MeterSpec("custom.hardware.disk.utilization", GAUGE, "%", Kind.DISK),
    ]
    for op in ("read", "write"):
        specs += [
            MeterSpec(f"custom.hardware.disk.{op}.bytes", CUMULATIVE, "B", Kind.DISK),
            MeterSpec(f"custom.hardware.disk.{op}.requests", CUMULATIVE, "request", Kind.DISK),
            MeterSpec(f"custom.hardware.disk.{op}.bytes.average", GAUGE, "B/s", Kind.DISK),
            MeterSpec(f"custom.hardware.disk.{op}.requests.average", GAUGE, "request/s",
                      Kind.DISK),
        ]
    return {spec.name: spec for spec in specs}


CPU_STATES = ("user", "nice", "wait", "system", "idle", "steal", "softinterrupt", "interrupt",
              "kernel", "guest", "guestnice", "util")
METERS: dict[str, MeterSpec] = _specs()
