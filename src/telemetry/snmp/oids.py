"""The OIDs the pollsters read, numeric so no MIB file is needed (snmpd runs with MIBS= too).

Scalars come in one GET; each table group in one lock-step bulk walk of its columns.
"""

from __future__ import annotations

Oid = tuple[int, ...]


def oid(dotted: str) -> Oid:
    """'1.3.6.1' -> (1, 3, 6, 1)."""
    return tuple(int(part) for part in dotted.strip(".").split("."))


# UCD-SNMP-MIB::systemStats raw CPU counters (ticks summed over all CPUs, Counter32).
_SS = "1.3.6.1.4.1.2021.11"
CPU_RAW = {
    "user": oid(f"{_SS}.50.0"),
    "nice": oid(f"{_SS}.51.0"),
    "system": oid(f"{_SS}.52.0"),
    "idle": oid(f"{_SS}.53.0"),
    "wait": oid(f"{_SS}.54.0"),
    "kernel": oid(f"{_SS}.55.0"),
    "interrupt": oid(f"{_SS}.56.0"),
    "softirq": oid(f"{_SS}.61.0"),
    "steal": oid(f"{_SS}.64.0"),
    "guest": oid(f"{_SS}.65.0"),
    "guest_nice": oid(f"{_SS}.66.0"),
}

# UCD-SNMP-MIB::memory (kB).
_MEM = "1.3.6.1.4.1.2021.4"
MEMORY = {
    "swap_total": oid(f"{_MEM}.3.0"),  # memTotalSwap
    "swap_avail": oid(f"{_MEM}.4.0"),  # memAvailSwap
    "total": oid(f"{_MEM}.5.0"),  # memTotalReal
    "avail": oid(f"{_MEM}.6.0"),  # memAvailReal (MemFree on Linux)
    "buffer": oid(f"{_MEM}.14.0"),  # memBuffer
    "cached": oid(f"{_MEM}.15.0"),  # memCached
}

# IF-MIB::ifTable and ifXTable columns, walked together (same ifIndex rows).
_IF = "1.3.6.1.2.1.2.2.1"
_IFX = "1.3.6.1.2.1.31.1.1.1"
INTERFACE_COLUMNS = {
    "descr": oid(f"{_IF}.2"),
    "mac": oid(f"{_IF}.6"),
    "oper_status": oid(f"{_IF}.8"),
    "in_discards": oid(f"{_IF}.13"),
    "in_errors": oid(f"{_IF}.14"),
    "out_discards": oid(f"{_IF}.19"),
    "out_errors": oid(f"{_IF}.20"),
    "name": oid(f"{_IFX}.1"),
    "in_octets": oid(f"{_IFX}.6"),  # ifHCInOctets (64-bit)
    "in_ucast": oid(f"{_IFX}.7"),
    "in_mcast": oid(f"{_IFX}.8"),
    "in_bcast": oid(f"{_IFX}.9"),
    "out_octets": oid(f"{_IFX}.10"),  # ifHCOutOctets
    "out_ucast": oid(f"{_IFX}.11"),
    "out_mcast": oid(f"{_IFX}.12"),
    "out_bcast": oid(f"{_IFX}.13"),
    "high_speed": oid(f"{_IFX}.15"),  # Mbit/s
}

# HOST-RESOURCES-MIB::hrStorageTable.
_HRS = "1.3.6.1.2.1.25.2.3.1"
STORAGE_COLUMNS = {
    "type": oid(f"{_HRS}.2"),
    "descr": oid(f"{_HRS}.3"),
    "units": oid(f"{_HRS}.4"),
    "size": oid(f"{_HRS}.5"),
    "used": oid(f"{_HRS}.6"),
}
HR_STORAGE_FIXED_DISK = oid("1.3.6.1.2.1.25.2.1.4")

# UCD-DISKIO-MIB::diskIOTable.
_DIO = "1.3.6.1.4.1.2021.13.15.1.1"
DISKIO_COLUMNS = {
    "device": oid(f"{_DIO}.2"),
    "reads": oid(f"{_DIO}.5"),
    "writes": oid(f"{_DIO}.6"),
    "read_bytes": oid(f"{_DIO}.12"),  # diskIONReadX (64-bit)
    "written_bytes": oid(f"{_DIO}.13"),  # diskIONWrittenX (64-bit)
}

# Subtrees snmpd's view must expose (for the deploy's snmpd.conf).
REQUIRED_SUBTREES = {
    "UCD-SNMP-MIB::systemStats": _SS,
    "UCD-SNMP-MIB::memory": _MEM,
    "IF-MIB::ifTable": _IF,
    "IF-MIB::ifXTable": _IFX,
    "HOST-RESOURCES-MIB::hrStorageTable": _HRS,
    "UCD-DISKIO-MIB::diskIOTable": _DIO,
}
