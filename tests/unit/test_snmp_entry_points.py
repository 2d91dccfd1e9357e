"""setup.cfg registers exactly the meters polling.yaml.j2 polls over SNMP, each to its class."""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

import yaml

from telemetry.snmp.meters import METERS
from telemetry.templating import make_environment

ROOT = Path(__file__).resolve().parents[2]
POLLING = ROOT / "ansible" / "roles" / "ceilometer" / "templates" / "polling.yaml.j2"
SNMP_SOURCES = ("hardware_snmp", "user_defined")
MODULE = "telemetry.snmp.pollsters"


def entry_points() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options.entry_points"]["ceilometer.poll.central"].strip().splitlines()
    return dict(tuple(part.strip() for part in line.split("=", 1)) for line in lines)


def polled_meters() -> set[str]:
    env = make_environment([POLLING.parent])
    text = env.get_template(POLLING.name).render(
        ceilometer_polling_interval=60, snmp_target_addresses=["192.0.2.1"],
        snmp_community="c/o:m@m")
    sources = {s["name"]: s for s in yaml.safe_load(text)["sources"]}
    for name in SNMP_SOURCES:
        assert sources[name]["resources"] == ["snmp://c%2Fo%3Am%40m@192.0.2.1"]
    return {meter for name in SNMP_SOURCES for meter in sources[name]["meters"]}


def test_entry_points_cover_exactly_the_polled_meters() -> None:
    assert set(entry_points()) == polled_meters() == set(METERS)


def test_each_entry_point_names_a_class_built_for_its_meter() -> None:
    # pollsters.py imports ceilometer (only in the image), so read its assignments.
    source = (ROOT / "src" / "telemetry" / "snmp" / "pollsters.py").read_text()
    built = {node.targets[0].id: node.value.args[0].value
             for node in ast.parse(source).body
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
             and getattr(node.value.func, "id", "") == "_make"}
    for meter, target in entry_points().items():
        module, _, attr = target.partition(":")
        assert module == MODULE
        assert built.get(attr) == meter, (meter, attr)
