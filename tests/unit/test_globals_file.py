"""The shipped globals.yml lists every Ansible default, commented out, and stays in step."""

from __future__ import annotations

import yaml

from telemetry.deploy.globals_file import SOURCES, render
from tests.conftest import ROOT

SHIPPED = ROOT / "etc/telemetry/globals.yml"


def test_shipped_globals_is_generated_from_the_defaults() -> None:
    assert SHIPPED.read_text() == render(ROOT), (
        "etc/telemetry/globals.yml is stale: python3 -m telemetry.deploy.globals_file "
        "> etc/telemetry/globals.yml")


def test_every_default_appears_commented_with_its_value() -> None:
    shipped = SHIPPED.read_text()
    assert yaml.safe_load(shipped) is None  # nothing is set until the operator uncomments it
    for source in SOURCES:
        for key, value in yaml.safe_load((ROOT / source).read_text()).items():
            if isinstance(value, (str, int, bool)) and "\n" not in str(value):
                assert f"#{key}: " in shipped, key
