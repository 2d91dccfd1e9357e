from __future__ import annotations

import stat
from pathlib import Path

import yaml

from tests.conftest import run_cli

CLI = "telemetry.cli.genpwd"
TEMPLATE = Path(__file__).resolve().parents[2] / "etc" / "telemetry" / "passwords.yml"


def every_template_key_set(**values: str) -> str:
    """A passwords.yml holding `values`, and "set" for every other key of the shipped template."""
    keys = {**dict.fromkeys(yaml.safe_load(TEMPLATE.read_text()), "set"), **values}
    return yaml.safe_dump(keys)


def test_fills_only_empty_keys_with_strong_private_values(tmp_path: Path) -> None:
    passwords = tmp_path / "passwords.yml"
    passwords.write_text(every_template_key_set(database_password="", redis_password="",
                                                keystone_admin_password="kept"))
    passwords.chmod(0o600)
    result = run_cli(CLI, "-p", str(passwords))
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(passwords.read_text())
    assert data["keystone_admin_password"] == "kept"
    assert len(data["database_password"]) == 32 and data["database_password"].isalnum()
    assert data["database_password"] != data["redis_password"]
    assert stat.S_IMODE(passwords.stat().st_mode) == 0o600
    assert data["database_password"] not in result.stdout + result.stderr, "never print secrets"
    assert "filled 2 empty keys" in result.stdout


def test_rerun_keeps_every_value(tmp_path: Path) -> None:
    passwords = tmp_path / "passwords.yml"
    passwords.write_text("a:\nb:\n")
    run_cli(CLI, "-p", str(passwords))
    first = passwords.read_text()
    result = run_cli(CLI, "-p", str(passwords))
    assert result.returncode == 0
    assert passwords.read_text() == first
    assert "filled 0 empty keys" in result.stdout


def test_warns_about_a_readable_file(tmp_path: Path) -> None:
    passwords = tmp_path / "passwords.yml"
    passwords.write_text(every_template_key_set())
    passwords.chmod(0o644)
    result = run_cli(CLI, "-p", str(passwords))
    assert result.returncode == 0
    assert "readable by group or others" in result.stderr


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(CLI, "-p", str(tmp_path / "nope.yml"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_a_secret_new_in_the_shipped_template_is_added(tmp_path: Path) -> None:
    passwords = tmp_path / "passwords.yml"
    passwords.write_text("database_password: kept\n")  # written before keystone_key_secret
    passwords.chmod(0o600)
    result = run_cli(CLI, "-p", str(passwords))
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(passwords.read_text())
    assert data["database_password"] == "kept"
    assert len(data["keystone_key_secret"]) == 32
    assert "keystone_key_secret" in result.stdout
