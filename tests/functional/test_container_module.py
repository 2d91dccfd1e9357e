"""The telemetry_container Ansible module against real podman: recreate only what differs."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from telemetry.common.engine import DEFAULT_ENGINE_URL, connect
from tests.conftest import IMAGE_TAG, ROOT, load_ansible_file

LIBRARY = ROOT / "ansible" / "library"
PREFIX = "tm-test-"


tc = load_ansible_file("library/telemetry_container.py", "telemetry_container")
tc_exec_checked = load_ansible_file("library/telemetry_exec.py", "telemetry_exec").exec_checked


@dataclass(frozen=True)
class Images:
    """Two local images, pinned under test tags so concurrent rebuilds cannot move them."""

    first: str
    first_id: str
    second: str
    second_id: str


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    client = connect(DEFAULT_ENGINE_URL)
    yield client
    client.close()


@pytest.fixture(scope="module")
def images(engine: docker.DockerClient) -> Iterator[Images]:
    run_id = uuid.uuid4().hex[:12]
    pinned = {}
    for source in (f"telemetry/base:{IMAGE_TAG}", f"telemetry/redis:{IMAGE_TAG}"):
        image = engine.images.get(source)
        repository = f"localhost/{PREFIX}{source.split('/')[1].split(':')[0]}"
        image.tag(repository, tag=run_id)
        pinned[f"{repository}:{run_id}"] = image.id
    yield Images(*[item for pair in pinned.items() for item in pair])
    for reference in pinned:
        with contextlib.suppress(docker.errors.APIError):
            engine.images.remove(reference, noprune=True)


@pytest.fixture
def name(engine: docker.DockerClient) -> Iterator[str]:
    """A unique container name; the container, and a network/volume of that name, go at the end."""
    unique = f"{PREFIX}{uuid.uuid4().hex[:10]}"
    yield unique
    with contextlib.suppress(docker.errors.NotFound):
        engine.containers.get(unique).remove(force=True, v=True)
    for collection in (engine.networks, engine.volumes):
        with contextlib.suppress(docker.errors.NotFound):
            collection.get(unique).remove()


@pytest.fixture
def params(name: str, images: Images) -> dict[str, Any]:
    """A container that just sleeps (tini as PID 1, so SIGTERM stops it at once)."""
    return {
        "name": name, "image": images.first, "entrypoint": ["/usr/bin/tini", "--"],
        "command": "sleep infinity", "environment": {"TM_TEST": "1"},
        "labels": {"tm.test": "yes"}, "config_hash": "hash-1", "stop_timeout": 2,
    }


Run = Callable[..., dict[str, Any]]


@pytest.fixture
def run(params: dict[str, Any]) -> Run:
    """Run the module on `params` updated with `changes`, as main() would."""
    def _run(check_mode: bool = False, **changes: Any) -> dict[str, Any]:
        return tc.run({**params, **changes}, check_mode)
    return _run


def inspect(engine: docker.DockerClient, name: str) -> dict[str, Any]:
    return engine.api.inspect_container(name)


def fields(result: dict[str, Any]) -> list[str]:
    return [difference["field"] for difference in result["differences"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_create_then_same_params_leave_the_container_untouched(
        run: Run, engine: docker.DockerClient, name: str, images: Images) -> None:
    first = run()
    assert (first["action"], first["changed"]) == ("created", True)
    before = inspect(engine, name)
    assert before["State"]["Running"]
    assert before["Image"] == images.first_id
    assert before["Config"]["Labels"][tc.CONFIG_HASH_LABEL] == "hash-1"

    second = run()
    assert (second["action"], second["changed"], second["differences"]) == (
        "unchanged", False, [])
    after = inspect(engine, name)
    assert after["Id"] == before["Id"]
    assert after["State"]["StartedAt"] == before["State"]["StartedAt"]


def test_every_option_set_still_matches_on_the_second_run(
        run: Run, engine: docker.DockerClient, name: str, tmp_path: Path) -> None:
    port = free_port()
    everything = {
        "volumes": [f"{name}:/data", f"{tmp_path}:/host:ro"], "network": name,
        "ports": {"8080": f"127.0.0.1:{port}"}, "user": "root", "restart_policy": "always",
        "healthcheck": {"test": ["CMD-SHELL", "true"], "interval": 60, "retries": 2},
        "cap_add": ["net_admin"],
    }
    assert run(**everything)["action"] == "created"
    started = inspect(engine, name)["State"]["StartedAt"]
    assert name in inspect(engine, name)["NetworkSettings"]["Networks"]

    again = run(**everything)
    assert again["action"] == "unchanged", again["differences"]
    assert inspect(engine, name)["State"]["StartedAt"] == started

    moved = run(**{**everything, "ports": [f"127.0.0.1:{free_port()}:8080"]})
    assert (moved["action"], fields(moved)) == ("recreated", ["ports"])


def test_environment_change_recreates_and_names_environment(
        run: Run, engine: docker.DockerClient, name: str) -> None:
    old_id = run()["container_id"]
    result = run(environment={"TM_TEST": "2"})
    assert (result["action"], result["changed"]) == ("recreated", True)
    # Which keys changed, never their values: environments carry secrets.
    assert {"field": "environment", "running": {"TM_TEST": "<redacted>"},
            "wanted": {"TM_TEST": "<changed>"}} in result["differences"]
    assert "2" not in str([d for d in result["differences"] if d["field"] == "environment"])
    container = inspect(engine, name)
    assert container["Id"] != old_id
    assert container["State"]["Running"]
    assert "TM_TEST=2" in container["Config"]["Env"]


def test_config_hash_change_recreates(run: Run, engine: docker.DockerClient, name: str) -> None:
    old_id = run()["container_id"]
    result = run(config_hash="hash-2")
    assert result["action"] == "recreated"
    assert {"field": "config_hash", "running": "hash-1", "wanted": "hash-2"} in result[
        "differences"]
    container = inspect(engine, name)
    assert container["Id"] != old_id
    assert container["Config"]["Labels"][tc.CONFIG_HASH_LABEL] == "hash-2"


def test_image_change_recreates(run: Run, engine: docker.DockerClient, name: str,
                                images: Images) -> None:
    run()
    result = run(image=images.second)
    assert (result["action"], fields(result)) == ("recreated", ["image"])
    assert result["differences"][0]["running"] == images.first_id
    assert result["differences"][0]["wanted"] == images.second_id
    assert inspect(engine, name)["Image"] == images.second_id


def test_check_mode_reports_but_changes_nothing(
        run: Run, engine: docker.DockerClient, name: str) -> None:
    would_create = run(check_mode=True)
    assert (would_create["action"], would_create["changed"]) == ("created", True)
    with pytest.raises(docker.errors.NotFound):
        inspect(engine, name)

    run()
    before = inspect(engine, name)
    result = run(check_mode=True, environment={"TM_TEST": "2"}, config_hash="hash-2")
    assert (result["action"], result["changed"]) == ("recreated", True)
    assert set(fields(result)) == {"environment", "config_hash"}
    after = inspect(engine, name)
    assert after["Id"] == before["Id"]
    assert after["State"]["StartedAt"] == before["State"]["StartedAt"]
    assert "TM_TEST=1" in after["Config"]["Env"]


def test_state_absent_removes(run: Run, engine: docker.DockerClient, name: str) -> None:
    run()
    assert run(state="absent")["action"] == "removed"
    with pytest.raises(docker.errors.NotFound):
        inspect(engine, name)
    assert (run(state="absent")["action"], run(state="absent")["changed"]) == (
        "unchanged", False)


def test_stopped_container_is_started_and_restarted_forces_a_restart(
        run: Run, engine: docker.DockerClient, name: str) -> None:
    container_id = run()["container_id"]
    engine.containers.get(name).stop(timeout=2)
    assert not inspect(engine, name)["State"]["Running"]

    result = run()
    assert (result["action"], result["differences"]) == ("started", [])
    container = inspect(engine, name)
    assert container["Id"] == container_id
    assert container["State"]["Running"]

    started = container["State"]["StartedAt"]
    assert run(state="restarted")["action"] == "restarted"
    assert inspect(engine, name)["State"]["StartedAt"] != started
    assert run(state="stopped")["action"] == "stopped"
    assert not inspect(engine, name)["State"]["Running"]


def test_errors_say_what_to_do(run: Run, name: str) -> None:
    with pytest.raises(tc.ModuleError, match="never pulls"):
        run(image=f"localhost/{name}-missing:latest")
    with pytest.raises(tc.ModuleError, match="podman system service"):
        run(engine_url=f"unix:///tmp/{name}-no-such.sock")


def test_a_command_run_in_the_container_reports_its_output_or_why_it_failed(
        run: Run, engine: docker.DockerClient, name: str) -> None:
    """exec_checked: what telemetry_exec (upgrade's steps) and telemetry_lb_backend (nginx's
    reload) run in a container."""
    run()
    container = engine.containers.get(name)
    assert tc_exec_checked(container, "echo one; echo two") == ["one", "two"]
    with pytest.raises(tc.ModuleError, match=f"false in {name} exited 1: no output") as failed:
        tc_exec_checked(container, "false")
    assert failed.value.details == {"rc": 1, "output": []}
    with pytest.raises(tc.ModuleError, match="exited 3: broken") as failed:
        tc_exec_checked(container, "echo broken >&2; exit 3")
    assert failed.value.details["output"] == ["broken"]


PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
  tasks:
    - name: The container
      telemetry_container: {params}
      register: result
    - name: It did what this run expects
      ansible.builtin.assert:
        that: result.action == expected
        fail_msg: "{{{{ result | to_json }}}}"
"""


def test_through_ansible_playbook_second_run_changes_nothing(
        params: dict[str, Any], engine: docker.DockerClient, name: str, tmp_path: Path) -> None:
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK.format(python=sys.executable, params=json.dumps(params)))
    env = {**os.environ, "ANSIBLE_LIBRARY": str(LIBRARY), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_MODULE_UTILS": str(ROOT / "ansible" / "module_utils"),
           "ANSIBLE_LOCALHOST_WARNING": "False", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local"),
           "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote")}
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"

    def play(expected: str) -> str:
        command = [str(ansible_playbook), str(playbook), "-e", f"expected={expected}"]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                                check=False)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        return output

    assert "changed=1" in play("created")
    started = inspect(engine, name)["State"]["StartedAt"]
    second = play("unchanged")
    assert "changed=0" in second and "failed=0" in second, second
    assert inspect(engine, name)["State"]["StartedAt"] == started
