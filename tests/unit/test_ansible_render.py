"""deploy.yml's genconfig for real (ansible-playbook, no container engine): one port override in
globals.yml reaches every file the Ansible engine writes, and a bad one stops it naming both
variables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from telemetry.common.loadbalancer import drain
from tests.conftest import ROOT

PLAYBOOK = ROOT / "ansible" / "deploy.yml"
INVENTORY = ROOT / "ansible" / "inventory" / "all-in-one"


def _configdir(tmp_path: Path, overrides: dict) -> Path:
    configdir = tmp_path / "etc"
    configdir.mkdir()
    keys = yaml.safe_load((ROOT / "etc/telemetry/passwords.yml").read_text())
    (configdir / "passwords.yml").write_text(yaml.safe_dump({k: f"pw{i}x" for i, k in
                                                             enumerate(keys)}))
    (configdir / "globals.yml").write_text(yaml.safe_dump(overrides))
    return configdir


def _genconfig(tmp_path: Path, overrides: dict) -> tuple[subprocess.CompletedProcess, Path]:
    nodes = tmp_path / "containers"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY),
               str(PLAYBOOK), "-e", f"telemetry_config_dir={_configdir(tmp_path, overrides)}",
               "-e", "telemetry_action=genconfig", "-e", f"node_config_directory={nodes}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    return result, nodes


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result, nodes = _genconfig(tmp_path_factory.mktemp("genconfig"), {"gnocchi_api_port": 9041})
    assert result.returncode == 0, result.stdout[-3000:]
    return nodes


def test_the_listener_of_every_instance_follows_the_override(rendered: Path) -> None:
    for instance, address in (("gnocchi-api", "127.0.0.1"), ("gnocchi-api-2", "127.0.0.2")):
        text = (rendered / instance / "gnocchi-uwsgi.ini").read_text()
        assert f"http-socket = {address}:9041" in text


def test_the_load_balancer_upstream_follows_the_override(rendered: Path) -> None:
    nginx = (rendered / "nginx" / "nginx.conf").read_text()
    upstream = re.search(r"upstream gnocchi_api \{(.*?)\}", nginx, re.DOTALL)
    assert upstream is not None
    assert re.findall(r"server (\S+) (?!backup)", upstream.group(1)) == ["127.0.0.1:9041",
                                                                         "127.0.0.2:9041"]


def test_a_drain_takes_one_rendered_backend_out_of_its_upstream(rendered: Path) -> None:
    nginx = (rendered / "nginx" / "nginx.conf").read_text()
    plan = drain(nginx, ["127.0.0.2:9041"])
    assert plan.drained == {"127.0.0.2:9041": ["gnocchi_api"]}
    upstream = re.search(r"upstream gnocchi_api \{(.*?)\}", plan.config, re.DOTALL)
    assert upstream is not None
    assert re.findall(r"server (\S+) [^;]*down;", upstream.group(1)) == ["127.0.0.2:9041"] * 2


def test_the_keystone_endpoints_follow_the_override(rendered: Path) -> None:
    spec = yaml.safe_load((rendered / "toolbox-keystone-register" / "spec.yml").read_text())
    gnocchi = next(s for s in spec["keystone"]["services"] if s["name"] == "gnocchi")
    # Both through the load balancer, whose upstream follows the override (above).
    assert gnocchi["endpoints"]["internal"] == "http://127.0.0.1:18041"
    assert gnocchi["endpoints"]["public"] == "http://127.0.0.1:18041"
    assert [u["name"] for u in spec["keystone"]["users"]] == ["gnocchi", "aodh", "ceilometer"]


def test_memcached_listens_on_the_host_address_not_everywhere(rendered: Path) -> None:
    command = json.loads((rendered / "memcached" / "config.json").read_text())["command"]
    assert command.split()[-2:] == ["-l", "127.0.0.1"]
    assert "0.0.0.0" not in command


def test_databases_come_from_the_catalog(rendered: Path) -> None:
    spec = yaml.safe_load((rendered / "toolbox-gnocchi-db" / "spec.yml").read_text())
    assert [(d["name"], d["user"]) for d in spec["database"]["databases"]] == [
        ("gnocchi", "gnocchi")]


def test_two_services_on_one_port_stop_the_play_naming_both(tmp_path: Path) -> None:
    result, nodes = _genconfig(tmp_path, {"aodh_api_port": 8041})
    assert result.returncode != 0
    assert "aodh_api_port is 8041, the port of gnocchi_api_port too" in result.stdout
    # It stopped before rendering anything: no container's config dir was written.
    assert not nodes.exists() or not [p for p in nodes.iterdir() if p.is_dir()]
