#!/usr/bin/python
"""Ansible module: run a shell command in a running container (upgrade's drain and finalize)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    exec_checked,
    run_module,
)

with contextlib.suppress(ImportError):  # engine_client() reports a missing SDK
    import docker.errors

DOCUMENTATION = r"""
module: telemetry_exec
short_description: Run a shell command in a running container and report its output
description:
  - Runs C(sh -c COMMAND) in the named container as I(user), waits for it, and fails with the
    exit code and the last output lines when it did not exit 0. Always reports changed; the
    caller decides from the output (changed_when) what the command changed.
  - Talks to the Docker API (podman's compatible socket by default) through the docker SDK.
options:
  name: {type: str, required: true, description: the running container}
  command: {type: str, required: true, description: run by sh -c}
  user: {type: str, description: "user to run as (default: the container's)"}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""

RETURN = r"""
rc: {description: the command's exit code, type: int}
output: {description: the last output lines (stdout and stderr), type: list}
"""

@dataclass(frozen=True)
class ExecResult:
    rc: int
    output: list[str]

    def as_result(self) -> dict[str, Any]:
        return {"changed": True, "rc": self.rc, "output": self.output}


def run_in_container(client: Any, name: str, command: str, user: str | None) -> ExecResult:
    try:
        container = client.containers.get(name)
    except docker.errors.NotFound as err:
        raise ModuleError(f"container {name} does not exist: deploy it first") from err
    if container.status != "running":
        raise ModuleError(f"container {name} is {container.status}, not running: start it "
                          f"(telemetry-ansible deploy) or see 'podman logs {name}'")
    return ExecResult(0, exec_checked(container, command, user or ""))


def run(params: dict[str, Any]) -> dict[str, Any]:
    client = engine_client(params["engine_url"])
    try:
        return run_in_container(client, params["name"], params["command"],
                                params["user"]).as_result()
    finally:
        client.close()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "command": {"type": "str", "required": True},
            "user": {"type": "str"},
            "engine_url": ENGINE_URL_OPTION,
        },
        supports_check_mode=False,
    )
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
