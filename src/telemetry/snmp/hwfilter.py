"""Seed 003's /etc/ceilometer/monitor_hardware.yaml: which host disks and interfaces to collect.

    host:
      disk_name: [/dev/sda]            # empty: every disk
      network_interface_name: [ens192] # empty: every interface
    instance: {...}                    # ceilometer-compute's, ignored here

A disk name matches a diskIOTable device (`sda`, with or without `/dev/`) or an hrStorageTable
mount point (`/`, `/var`). The path is `TELEMETRY_MONITOR_HARDWARE` or the seed's default; a
missing or unreadable file collects everything (and says so once per cycle in the log).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

LOG = logging.getLogger(__name__)
DEFAULT_PATH = "/etc/ceilometer/monitor_hardware.yaml"
PATH_ENV = "TELEMETRY_MONITOR_HARDWARE"


def _bare(name: str) -> str:
    return name.removeprefix("/dev/")


@dataclass(frozen=True)
class HardwareFilter:
    """Names to keep; an empty set keeps everything."""

    disk_names: frozenset[str] = frozenset()
    interface_names: frozenset[str] = frozenset()

    def keep_disk(self, *names: str) -> bool:
        """True when the filter is empty or any of the disk's names is listed."""
        if not self.disk_names:
            return True
        listed = {_bare(n) for n in self.disk_names}
        return any(_bare(n) in listed for n in names if n)

    def keep_interface(self, *names: str) -> bool:
        """True when the filter is empty or the interface's ifName or ifDescr is listed."""
        return not self.interface_names or any(n in self.interface_names for n in names if n)


def _names(section: object, key: str, path: Path) -> frozenset[str]:
    value = section.get(key) if isinstance(section, dict) else None
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise ValueError(f"{path}: host.{key} must be a list")
    return frozenset(str(v) for v in value)


def load_filter(path: str | os.PathLike[str] | None = None) -> HardwareFilter:
    """Read the filter file; never raises (a bad file logs one warning and keeps all)."""
    path = Path(path or os.environ.get(PATH_ENV) or DEFAULT_PATH)
    try:
        data = yaml.safe_load(path.read_text()) or {}
        host = data.get("host") if isinstance(data, dict) else None
        return HardwareFilter(_names(host, "disk_name", path),
                              _names(host, "network_interface_name", path))
    except FileNotFoundError:
        LOG.debug("%s absent: collecting every disk and interface", path)
    except (OSError, ValueError, yaml.YAMLError) as err:
        LOG.warning("ignoring %s, collecting every disk and interface: %s", path, err)
    return HardwareFilter()
