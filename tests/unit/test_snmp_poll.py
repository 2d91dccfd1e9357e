"""The pollsters' code against a real snmpd (Debian's /usr/sbin/snmpd on a loopback port).

No mocked SNMP: a module-scoped agent with a random community is started from a test config,
polled through `HostPoller` exactly as the ceilometer adapter polls it, and stopped afterwards.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from telemetry.snmp.client import ClientSettings
from telemetry.snmp.hwfilter import PATH_ENV, HardwareFilter, load_filter
from telemetry.snmp.localagent import LocalAgent, free_udp_port
from telemetry.snmp.measure import Measurement
from telemetry.snmp.meters import CPU_STATES, METERS, Kind
from telemetry.snmp.poller import HostPoller
from telemetry.templating import make_environment

# Good polls wait as the pollsters do by default; failure cases give up fast.
GOOD = ClientSettings()
FAST = ClientSettings(timeout=0.5, retries=0)
# snmpd reloads its CPU counters from /proc/stat every 5 s.
CPU_REFRESH = 6.0
STABLE_LINKS: set[str] = set()


@pytest.fixture(scope="module")
def agent() -> LocalAgent:
    with LocalAgent() as running:
        yield running


@pytest.fixture(scope="module")
def two_polls(agent: LocalAgent) -> tuple[list[Measurement], list[Measurement]]:
    """Two polls CPU_REFRESH apart with every CPU kept busy (niced) across both."""
    poller = HostPoller(GOOD)
    burners = [subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", "while True: pass"])
               for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(CPU_REFRESH)  # snmpd's counters at poll 1 are read during the load
        first = poller.poll(agent.resource, HardwareFilter())
        time.sleep(CPU_REFRESH)
        links_before = set(os.listdir("/sys/class/net"))
        second = poller.poll(agent.resource, HardwareFilter())
        links_after = set(os.listdir("/sys/class/net"))
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert first.error is None and second.error is None
    # Containers come and go on a shared host: only links present around the poll must show.
    STABLE_LINKS.update(links_before & links_after)
    return list(first.measurements), list(second.measurements)


def by_name(measurements: list[Measurement], name: str) -> list[Measurement]:
    return [m for m in measurements if m.name == name]


def test_every_meter_has_its_type_unit_and_resource(agent, two_polls) -> None:
    _, second = two_polls
    names = {m.name for m in second}
    assert names == set(METERS)
    host = f"127.0.0.1:{agent.port}"
    url = f"snmp://{host}"
    for m in second:
        spec = METERS[m.name]
        assert (m.type, m.unit) == (spec.type, spec.unit), m.name
        assert m.metadata["resource_url"] == url
        assert agent.community not in repr(m)
        if spec.kind is Kind.HOST:
            assert m.resource_id == host
        elif spec.kind is Kind.INTERFACE:
            # gnocchi_resources.yaml: device_name <- resource_metadata.name
            assert m.resource_id == f"{host}.{m.metadata['name']}"
        else:
            # gnocchi_resources.yaml: device_name <- resource_metadata.device ('/' -> '_' in ids,
            # as ceilometer's gnocchi publisher does).
            assert m.resource_id == f"{host}.{m.metadata['device'].replace('/', '_')}"
        assert "/" not in m.resource_id


def test_first_poll_has_no_percentages_or_averages(two_polls) -> None:
    first, _ = two_polls
    names = {m.name for m in first}
    assert not {n for n in names if n.startswith("custom.hardware.cpu.")}
    assert not {n for n in names if n.endswith(".average")}
    assert names == {n for n in METERS
                     if not n.startswith("custom.hardware.cpu.") and not n.endswith(".average")}


def test_cpu_percentages_over_two_polls_on_a_busy_host(two_polls) -> None:
    _, second = two_polls
    cpu = {state: by_name(second, f"custom.hardware.cpu.{state}.percentage")[0].volume
           for state in CPU_STATES}
    assert all(0 <= v <= 100 for v in cpu.values()), cpu
    disjoint = ("user", "nice", "system", "idle", "wait", "interrupt", "softinterrupt", "steal")
    assert sum(cpu[s] for s in disjoint) == pytest.approx(100, abs=0.01)
    assert cpu["util"] == pytest.approx(100 - cpu["idle"])
    # Every CPU ran a niced busy loop through the interval.
    assert cpu["util"] > 80, cpu
    assert cpu["nice"] > 20, cpu


def test_memory_matches_proc_meminfo(two_polls) -> None:
    _, second = two_polls
    meminfo = {line.split(":")[0]: int(line.split()[1])
               for line in Path("/proc/meminfo").read_text().splitlines()}
    value = {m.name.removeprefix("custom.hardware."): m.volume for m in second
             if m.name.startswith(("custom.hardware.memory", "custom.hardware.swap"))}
    assert value["memory.total"] == meminfo["MemTotal"]
    assert value["swap.total"] == meminfo["SwapTotal"]
    assert 0 < value["memory.used"] < value["memory.total"]
    assert value["memory.utilization"] == pytest.approx(
        100 * value["memory.used"] / value["memory.total"])
    assert 0 <= value["swap.utilization"] <= 100


def test_interfaces_are_the_hosts(two_polls) -> None:
    _, second = two_polls
    names = {m.metadata["name"] for m in by_name(second, "hardware.network.incoming.bytes")}
    assert "lo" in names
    assert names >= STABLE_LINKS
    lo = next(m for m in by_name(second, "custom.hardware.network.interface.status")
          if m.metadata["name"] == "lo")
    assert (lo.volume, lo.metadata["status"]) == (1, "up")
    assert lo.metadata["if_index"] == int(Path("/sys/class/net/lo/ifindex").read_text())
    per_meter = Counter(m.name for m in second if METERS[m.name].kind is Kind.INTERFACE)
    assert set(per_meter.values()) == {len(names)}


def test_disks_sizes_and_rates(two_polls) -> None:
    first, second = two_polls
    root = [m for m in by_name(second, "custom.hardware.disk.size.total")
            if m.metadata["path"] == "/"]
    assert root, "hrStorageTable has no '/' (includeAllDisks?)"
    st = os.statvfs("/")
    assert root[0].volume == pytest.approx(st.f_blocks * st.f_frsize / 1024, rel=0.01)
    util = next(m for m in by_name(second, "custom.hardware.disk.utilization")
            if m.resource_id == root[0].resource_id)
    assert 0 < util.volume < 100
    devices = {m.metadata["device"] for m in by_name(second, "custom.hardware.disk.read.bytes")}
    diskstats = {line.split()[2] for line in Path("/proc/diskstats").read_text().splitlines()}
    assert devices and devices <= diskstats
    before = {m.resource_id: m.volume for m in by_name(first, "custom.hardware.disk.write.bytes")}
    for avg in by_name(second, "custom.hardware.disk.write.bytes.average"):
        after = next(m for m in by_name(second, "custom.hardware.disk.write.bytes")
                 if m.resource_id == avg.resource_id)
        assert avg.volume >= 0
        assert avg.volume <= (after.volume - before[avg.resource_id]) / 1.0  # interval > 1 s


def test_hardware_filter_keeps_only_listed_names(agent, tmp_path, monkeypatch) -> None:
    everything = HostPoller(GOOD).poll(agent.resource, HardwareFilter()).measurements
    device = next(m.metadata["device"] for m in everything
                  if m.name == "custom.hardware.disk.read.bytes")
    config = tmp_path / "monitor_hardware.yaml"
    config.write_text(f"host:\n  disk_name: [/dev/{device}, /]\n"
                      "  network_interface_name: [lo]\n"
                      "instance:\n  disk_name: []\n  network_interface_name: []\n")
    monkeypatch.setenv(PATH_ENV, str(config))
    cache: dict = {}
    [result] = HostPoller(GOOD).poll_cached(cache, [agent.resource])
    kept = result.measurements
    assert {m.metadata["name"] for m in kept if METERS[m.name].kind is Kind.INTERFACE} == {"lo"}
    assert {m.metadata["device"] for m in kept if METERS[m.name].kind is Kind.DISK} == {
        device, "/"}
    # Host meters are never filtered.
    assert {m.name for m in kept if METERS[m.name].kind is Kind.HOST} == {
        m.name for m in everything if METERS[m.name].kind is Kind.HOST}


def test_empty_filter_and_missing_file_keep_everything(tmp_path) -> None:
    assert load_filter(tmp_path / "absent.yaml") == HardwareFilter()
    (tmp_path / "empty.yaml").write_text(
        "host:\n  disk_name: []\n  network_interface_name: []\n")
    assert load_filter(tmp_path / "empty.yaml") == HardwareFilter()


def test_one_fetch_per_host_and_cycle(agent) -> None:
    poller = HostPoller(GOOD)
    cache: dict = {}
    first = poller.poll_cached(cache, [agent.resource])
    assert poller.poll_cached(cache, [agent.resource])[0] is first[0]
    assert poller.poll_cached({}, [agent.resource])[0] is not first[0]


def assert_clear_failure(caplog, result, url: str, community: str) -> None:
    assert result.measurements == ()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in caplog.records]
    message = errors[0].getMessage()
    assert url in message and "did not answer" in message
    assert community not in message
    assert community not in caplog.text


def test_wrong_community(agent, caplog) -> None:
    wrong = f"snmp://not-{agent.community}@127.0.0.1:{agent.port}"
    with caplog.at_level(logging.INFO):
        result = HostPoller(FAST).poll(wrong, HardwareFilter())
    assert_clear_failure(caplog, result, f"snmp://127.0.0.1:{agent.port}",
                         f"not-{agent.community}")


def test_closed_port(caplog) -> None:
    port = free_udp_port()
    with caplog.at_level(logging.INFO):
        result = HostPoller(FAST).poll(f"snmp://s3cret@127.0.0.1:{port}", HardwareFilter())
    assert_clear_failure(caplog, result, f"snmp://127.0.0.1:{port}", "s3cret")


def test_stopped_agent_after_a_good_poll(caplog) -> None:
    # Not FAST: a just-started agent on a loaded machine can take longer than 0.5 s to answer
    # the good poll, and this test is about what follows it.
    poller = HostPoller(ClientSettings(timeout=3.0, retries=0))
    stopped = LocalAgent().start(wait_cpu=False)
    try:
        assert poller.poll(stopped.resource, HardwareFilter()).measurements
    finally:
        stopped.stop()
    with caplog.at_level(logging.INFO):
        result = poller.poll(stopped.resource, HardwareFilter())
    assert_clear_failure(caplog, result, f"snmp://127.0.0.1:{stopped.port}", stopped.community)


def test_resource_without_community_is_refused(caplog) -> None:
    with caplog.at_level(logging.INFO):
        result = HostPoller(FAST).poll("snmp://127.0.0.1", HardwareFilter())
    assert result.measurements == () and result.error
    assert "no community" in caplog.text


def test_down_agents_are_waited_for_at_once(agent, caplog) -> None:
    down = [f"snmp://s3cret@127.0.0.1:{free_udp_port()}" for _ in range(8)]
    poller = HostPoller(ClientSettings(timeout=1.0, retries=0), workers=9)
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        results = poller.poll_cached({}, [*down, agent.resource])
    # One after the other, the eight 1 s timeouts take 8 s at least; overlapped, 1 s and the
    # start-up of each (3.5 s here; four took 2.8 s on a loaded CI machine): the bound tells the
    # two apart with room for load.
    assert time.monotonic() - started < 7
    assert [bool(r.measurements) for r in results] == [False] * 8 + [True]
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 8
    assert "s3cret" not in caplog.text


def test_the_deploys_snmpd_conf_exposes_every_meter() -> None:
    """snmpd.conf.j2 as deployed (views, rocommunity -V, includeAllDisks) serves all 40 meters."""
    root = Path(__file__).resolve().parents[2]
    template = root / "ansible" / "roles" / "snmpd" / "templates" / "snmpd.conf.j2"
    defaults = yaml.safe_load((root / "ansible" / "group_vars" / "all" / "main.yml").read_text())
    conf = make_environment([template.parent]).get_template(template.name).render(
        orchestration_engine="ANSIBLE", api_interface_address="127.0.0.1", snmp_port=161,
        snmpd_agent_address="udp:127.0.0.1:@PORT@", snmp_community="@COMMUNITY@",
        snmp_source_network="127.0.0.1/32",
        **{k: defaults[k] for k in ("snmpd_include_all_disks_min_percent", "snmpd_syslocation",
                                    "snmpd_syscontact")})
    assert "-V systemview" in conf
    config = (conf.replace("{", "{{").replace("}", "}}")
              .replace("@PORT@", "{port}").replace("@COMMUNITY@", "{community}"))
    poller = HostPoller(GOOD)
    with LocalAgent(config=config) as deployed:
        poller.poll(deployed.resource, HardwareFilter())
        time.sleep(CPU_REFRESH)
        result = poller.poll(deployed.resource, HardwareFilter())
    assert {m.name for m in result.measurements} == set(METERS)
