"""The SNMP pollsters as ceilometer loads them, inside the built ceilometer-central image of
each release: ceilometer 19 (Zed, bookworm) and ceilometer 24 (2025.1, trixie).

The image's own ceilometer, pysnmp 4.4.12 and pyasn1 load our `ceilometer.poll.central`
entry points through stevedore (as the polling agent does), poll a real snmpd started on the
host (the container shares the host network) over two cycles, turn the samples into the
messages the agent publishes, and print them as JSON for the assertions here.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from telemetry.catalog import load_catalog
from telemetry.snmp.localagent import LocalAgent, free_udp_port
from telemetry.snmp.meters import METERS
from tests.functional.conftest import build

RELEASES = list(load_catalog().releases.values())
SCRIPT = r"""
import json, logging, sys, time
from oslo_config import cfg
from stevedore import extension
from ceilometer.publisher import utils

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
conf = cfg.ConfigOpts()
mgr = extension.ExtensionManager("ceilometer.poll.central", invoke_on_load=True,
                                 invoke_args=(conf,))
ours = [e for e in mgr if e.entry_point.value.startswith("telemetry.snmp.")]
resources = sys.argv[1:]
cycles = []
for cycle in range(2):
    if cycle:
        time.sleep(6)  # snmpd reloads its CPU counters every 5 s
    cache, samples = {}, []
    for ext in ours:
        for s in ext.obj.get_samples(manager=None, cache=cache, resources=resources):
            assert ext.name == s.name
            message = utils.meter_message_from_counter(s, "secret")
            samples.append({k: message[k] for k in (
                "counter_name", "counter_type", "counter_unit", "counter_volume", "user_id",
                "project_id", "resource_id", "resource_metadata")})
    cycles.append(samples)
print(json.dumps({"pollsters": sorted(e.name for e in ours),
                  "classes": sorted(type(e.obj).__mro__[1].__name__ for e in ours),
                  "cycles": cycles}))
"""


@pytest.fixture(scope="module", params=RELEASES, ids=lambda release: release.name)
def image(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """ceilometer-central of a release, carrying this checkout's src/ (rebuilt when its hash
    changed)."""
    release = request.param
    code, summary, output = build(tmp_path_factory.mktemp("ceilometer"), "^ceilometer-central$",
                                  "--base-release", release.name)
    assert code == 0, output
    assert summary["failed"] == []
    return f"telemetry/ceilometer-central:{release.tag}"


def run_in_image(image: str, *resources: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", "run", "--rm", "--network", "host", "--user", "ceilometer",
         "-e", "TELEMETRY_MONITOR_HARDWARE=/nonexistent", "-e", "TELEMETRY_SNMP_TIMEOUT=1",
         "-e", "TELEMETRY_SNMP_RETRIES=0", "--entrypoint", "python3", image, "-c", SCRIPT,
         *resources],
        capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.images
def test_pollsters_load_and_poll_inside_the_image(image: str) -> None:
    down_port = free_udp_port()
    with LocalAgent() as agent:
        wrong = f"snmp://wrong-{agent.community}@127.0.0.1:{agent.port}"
        down = f"snmp://s3cret@127.0.0.1:{down_port}"
        result = run_in_image(image, agent.resource, wrong, down)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["pollsters"] == sorted(METERS)
    assert set(data["classes"]) == {"SnmpHostPollster"}

    host = f"127.0.0.1:{agent.port}"
    first, second = data["cycles"]
    assert {s["counter_name"] for s in second} == set(METERS)
    assert not [s for s in first if s["counter_name"].startswith("custom.hardware.cpu.")]
    for s in second:
        spec = METERS[s["counter_name"]]
        assert (s["counter_type"], s["counter_unit"]) == (spec.type, spec.unit)
        assert s["user_id"] is None and s["project_id"] is None
        assert s["resource_id"] == host or s["resource_id"].startswith(f"{host}.")
        assert s["resource_metadata"]["resource_url"] == f"snmp://{host}"
    cpu = {s["counter_name"]: s["counter_volume"] for s in second
           if s["counter_name"].startswith("custom.hardware.cpu.")}
    assert all(0 <= v <= 100 for v in cpu.values())

    # Only the good agent gave samples; the two others one log line each, without community.
    assert {s["resource_metadata"]["resource_url"] for s in first + second} == {f"snmp://{host}"}
    errors = [line for line in result.stderr.splitlines() if "did not answer" in line]
    assert len(errors) == 4, result.stderr  # two bad resources x two cycles
    assert agent.community not in result.stderr and "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr
