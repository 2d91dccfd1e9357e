"""telemetry-build's behaviour on the command line that needs no engine."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import IMAGE_TAG, run_cli

CLI = "telemetry.cli.build"


def test_list_images_shows_parents_and_hashes() -> None:
    result = run_cli(CLI, "--list-images", "redis")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["image", "parent", "content"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {"base", "redis"}
    assert rows["redis"][1] == "base"
    assert rows["redis"][3] == f"telemetry/redis:{IMAGE_TAG}"


def test_list_dependencies_is_a_json_tree() -> None:
    result = run_cli(CLI, "--list-dependencies", "--profile", "infra")
    assert result.returncode == 0, result.stderr
    tree = json.loads(result.stdout)
    assert "keystone" in tree["base"]["openstack-base"]
    assert "mariadb" in tree["base"]


def test_unknown_regex_exits_2_and_lists_images() -> None:
    result = run_cli(CLI, "nova-api")
    assert result.returncode == 2
    assert "regex 'nova-api' matches no image; known images:" in result.stderr
    assert "gnocchi-api" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_profile_exits_2() -> None:
    result = run_cli(CLI, "--profile", "everything")
    assert result.returncode == 2
    assert "known profiles: default, infra, telemetry" in result.stderr


def test_template_only_renders_into_work_dir(tmp_path: Path) -> None:
    result = run_cli(CLI, "--template-only", "--work-dir", str(tmp_path), "toolbox", "--tag", "t1")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base", "openstack-base", "toolbox"]
    dockerfile = (tmp_path / "toolbox" / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM telemetry/openstack-base:t1")
    assert "LABEL telemetry.content-hash=" in dockerfile
    assert (tmp_path / "toolbox" / "project" / "src" / "telemetry" / "catalog" /
            "services.yml").is_file()
    assert (tmp_path / "base" / "set_configs.py").is_file()


def test_template_only_without_work_dir_is_refused() -> None:
    result = run_cli(CLI, "--template-only")
    assert result.returncode == 2
    assert "--work-dir" in result.stderr


def test_missing_override_file_is_bad_input(tmp_path: Path) -> None:
    result = run_cli(CLI, "--template-override", str(tmp_path / "nope.j2"), "--list-images")
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_unreachable_engine_says_how_to_start_one(tmp_path: Path) -> None:
    socket = f"unix://{tmp_path}/no-engine.sock"
    result = run_cli(CLI, "--engine-url", socket, "redis", "--logs-dir", str(tmp_path / "logs"))
    assert result.returncode == 3
    assert f"no container engine answers at {socket}" in result.stderr
    assert "podman system service" in result.stderr
    assert not (tmp_path / "logs").exists(), "nothing may be created on a bad invocation"


def test_push_without_registry_is_refused(tmp_path: Path) -> None:
    result = run_cli(CLI, "--push", "redis", "--logs-dir", str(tmp_path / "logs"))
    assert result.returncode == 2
    assert "--push needs --registry" in result.stderr


def test_config_file_options_are_read(tmp_path: Path) -> None:
    conf = tmp_path / "telemetry-build.conf"
    conf.write_text("[DEFAULT]\nnamespace = ops\ntag = 2023.1\n")
    result = run_cli(CLI, "--config-file", str(conf), "--list-images", "memcached")
    assert result.returncode == 0, result.stderr
    assert "ops/memcached:2023.1" in result.stdout


def test_help_explains_usage() -> None:
    result = run_cli(CLI, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--threads" in result.stdout
