"""The ceilometer adapter: one PollsterBase subclass per meter, over the shared `HostPoller`.

setup.cfg registers each class under `ceilometer.poll.central` with its meter name, which is
how polling.yaml's `meters:` select them. Resources come only from polling.yaml's static
`snmp://COMMUNITY@HOST` list (no discovery). Only this module imports ceilometer.
"""

from __future__ import annotations

from collections.abc import Iterator

from ceilometer import sample
from ceilometer.polling import plugin_base

from telemetry.snmp.meters import METERS
from telemetry.snmp.poller import shared_poller


class SnmpHostPollster(plugin_base.PollsterBase):
    """Yields the samples of `meter` for every snmp:// resource of the source."""

    meter: str = ""

    @property
    def default_discovery(self) -> None:
        """No discovery: the hosts are polling.yaml's static resources."""
        return None

    def get_samples(self, manager: object, cache: dict,
                    resources: list[str] | None) -> Iterator[sample.Sample]:
        """Samples of this meter from each host, fetched at most once per cycle for all meters."""
        for result in shared_poller().poll_cached(cache, list(resources or [])):
            for m in result.measurements:
                if m.name == self.meter:
                    yield sample.Sample(
                        name=m.name, type=m.type, unit=m.unit, volume=m.volume,
                        user_id=None, project_id=None, resource_id=m.resource_id,
                        timestamp=m.timestamp.isoformat(), resource_metadata=dict(m.metadata))


def _make(meter: str) -> type[SnmpHostPollster]:
    """A SnmpHostPollster subclass for one meter (setup.cfg names one class per meter)."""
    spec = METERS[meter]
    name = "".join(w.capitalize() for w in meter.removeprefix("custom.").replace(".", "_")
                   .split("_")) + "Pollster"
    return type(name, (SnmpHostPollster,),
                {"meter": meter, "__doc__": f"{meter} ({spec.type}, {spec.unit})."})


HardwareNetworkIncomingBytesPollster = _make("hardware.network.incoming.bytes")
HardwareNetworkIncomingPacketsPollster = _make("hardware.network.incoming.packets")
HardwareNetworkIncomingErrorsPollster = _make("hardware.network.incoming.errors")
HardwareNetworkIncomingDropPollster = _make("hardware.network.incoming.drop")
HardwareNetworkOutgoingBytesPollster = _make("hardware.network.outgoing.bytes")
HardwareNetworkOutgoingPacketsPollster = _make("hardware.network.outgoing.packets")
HardwareNetworkOutgoingErrorsPollster = _make("hardware.network.outgoing.errors")
HardwareNetworkOutgoingDropPollster = _make("hardware.network.outgoing.drop")
HardwareCpuUserPercentagePollster = _make("custom.hardware.cpu.user.percentage")
HardwareCpuNicePercentagePollster = _make("custom.hardware.cpu.nice.percentage")
HardwareCpuWaitPercentagePollster = _make("custom.hardware.cpu.wait.percentage")
HardwareCpuSystemPercentagePollster = _make("custom.hardware.cpu.system.percentage")
HardwareCpuIdlePercentagePollster = _make("custom.hardware.cpu.idle.percentage")
HardwareCpuStealPercentagePollster = _make("custom.hardware.cpu.steal.percentage")
HardwareCpuSoftinterruptPercentagePollster = _make("custom.hardware.cpu.softinterrupt.percentage")
HardwareCpuInterruptPercentagePollster = _make("custom.hardware.cpu.interrupt.percentage")
HardwareCpuKernelPercentagePollster = _make("custom.hardware.cpu.kernel.percentage")
HardwareCpuGuestPercentagePollster = _make("custom.hardware.cpu.guest.percentage")
HardwareCpuGuestnicePercentagePollster = _make("custom.hardware.cpu.guestnice.percentage")
HardwareCpuUtilPercentagePollster = _make("custom.hardware.cpu.util.percentage")
HardwareMemoryUsedPollster = _make("custom.hardware.memory.used")
HardwareMemoryTotalPollster = _make("custom.hardware.memory.total")
HardwareMemoryCachedPollster = _make("custom.hardware.memory.cached")
HardwareMemoryBufferPollster = _make("custom.hardware.memory.buffer")
HardwareMemoryUtilizationPollster = _make("custom.hardware.memory.utilization")
HardwareSwapAvailPollster = _make("custom.hardware.swap.avail")
HardwareSwapTotalPollster = _make("custom.hardware.swap.total")
HardwareSwapUtilizationPollster = _make("custom.hardware.swap.utilization")
HardwareNetworkInterfaceStatusPollster = _make("custom.hardware.network.interface.status")
HardwareDiskSizeUsedPollster = _make("custom.hardware.disk.size.used")
HardwareDiskSizeTotalPollster = _make("custom.hardware.disk.size.total")
HardwareDiskUtilizationPollster = _make("custom.hardware.disk.utilization")
HardwareDiskReadBytesPollster = _make("custom.hardware.disk.read.bytes")
HardwareDiskReadRequestsPollster = _make("custom.hardware.disk.read.requests")
HardwareDiskReadBytesAveragePollster = _make("custom.hardware.disk.read.bytes.average")
HardwareDiskReadRequestsAveragePollster = _make("custom.hardware.disk.read.requests.average")
HardwareDiskWriteBytesPollster = _make("custom.hardware.disk.write.bytes")
HardwareDiskWriteRequestsPollster = _make("custom.hardware.disk.write.requests")
HardwareDiskWriteBytesAveragePollster = _make("custom.hardware.disk.write.bytes.average")
HardwareDiskWriteRequestsAveragePollster = _make("custom.hardware.disk.write.requests.average")
