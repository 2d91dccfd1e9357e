"""The runtime contract of a real image: config copy, bootstrap mode, healthcheck, --check."""

from __future__ import annotations

import json
import time
from pathlib import Path

import docker
import pytest

from tests.conftest import IMAGE_TAG
from tests.functional.conftest import build


@pytest.fixture(scope="module")
def toolbox(tmp_path_factory: pytest.TempPathFactory) -> str:
    """base -> openstack-base -> toolbox, built (or found by content hash) through the CLI."""
    code, summary, output = build(tmp_path_factory.mktemp("toolbox"), "^toolbox$")
    assert code == 0, output
    assert summary["failed"] == []
    return f"telemetry/toolbox:{IMAGE_TAG}"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "app.conf").write_text("[DEFAULT]\nanswer = 42\n")
    (directory / "config.json").write_text(json.dumps({
        "command": "python3 -m http.server 8080 --bind 127.0.0.1 --directory /etc/app",
        "bootstrap_command": "grep -q 'answer = 42' /etc/app/app.conf",
        "config_files": [{"source": "/var/lib/telemetry/config_files/app.conf",
                          "dest": "/etc/app/app.conf", "owner": "telemetry", "perm": "0600"}],
    }))
    return directory


def _run(engine: docker.DockerClient, image: str, config_dir: Path, **kwargs):
    return engine.containers.run(
        image, detach=True, user="root",
        volumes={str(config_dir): {"bind": "/var/lib/telemetry/config_files", "mode": "ro"}},
        **kwargs)


def test_service_mode_copies_config_and_passes_healthcheck(
        toolbox: str, config_dir: Path, engine: docker.DockerClient) -> None:
    container = _run(engine, toolbox, config_dir)
    try:
        deadline = time.monotonic() + 30
        while True:
            code, output = container.exec_run(
                ["telemetry_healthcheck", "http", "http://127.0.0.1:8080/app.conf"])
            if code == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert code == 0, output
        code, output = container.exec_run(["stat", "-c", "%U %a", "/etc/app/app.conf"])
        assert output.decode().strip() == "telemetry 600"
        code, output = container.exec_run(["telemetry_set_configs", "--check"])
        assert code == 0, output
        (config_dir / "app.conf").write_text("[DEFAULT]\nanswer = 43\n")
        code, output = container.exec_run(["telemetry_set_configs", "--check"])
        assert code == 1
        assert b"/etc/app/app.conf" in output
        code, output = container.exec_run(["telemetry_healthcheck", "listen", "8080"])
        assert code == 0, output
        code, output = container.exec_run(["telemetry_healthcheck", "listen", "9999"])
        assert code == 1
    finally:
        container.remove(force=True)


def test_bootstrap_mode_runs_the_one_shot_and_exits(toolbox: str, config_dir: Path,
                                                    engine: docker.DockerClient) -> None:
    container = _run(engine, toolbox, config_dir, environment={"TELEMETRY_BOOTSTRAP": "1"})
    try:
        assert container.wait(timeout=60)["StatusCode"] == 0
    finally:
        container.remove(force=True)
    (config_dir / "app.conf").write_text("[DEFAULT]\nanswer = 0\n")
    container = _run(engine, toolbox, config_dir, environment={"TELEMETRY_BOOTSTRAP": "1"})
    try:
        assert container.wait(timeout=60)["StatusCode"] == 1, "bootstrap's failure is the exit code"
    finally:
        container.remove(force=True)
