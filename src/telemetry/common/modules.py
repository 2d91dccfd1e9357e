"""What the Ansible modules of ansible/library share: the engine client and how they fail.

Shipped to managed hosts as ``ansible.module_utils.telemetry_common.modules``
(ansible/module_utils/telemetry_common links to this package, and Ansible bundles what a module
imports into its payload), so, like its siblings, it imports only the standard library, the
docker SDK and them, relatively: a managed host needs Python and the docker SDK, never this
project.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .engine import DEFAULT_ENGINE_URL, connect
from .errors import TelemetryError

if TYPE_CHECKING:
    import docker

# Every container module's engine_url option, so their defaults cannot drift apart.
ENGINE_URL_OPTION: dict[str, Any] = {"type": "str", "default": DEFAULT_ENGINE_URL}


class ModuleError(TelemetryError):
    """A module failure whose message tells the operator what to do.

    ``details`` are returned with the failure (a container's last log lines, its exit code).
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


# The output lines a failed or reported command keeps: enough to see why, not a whole log.
OUTPUT_LINES = 30


def exec_checked(container: Any, command: str, user: str = "") -> list[str]:
    """Run ``sh -c command`` in a running container: its last output lines, or ModuleError
    with its exit code and those lines when it did not exit 0."""
    rc, raw = container.exec_run(["sh", "-c", command], user=user)
    output = raw.decode(errors="replace").splitlines()[-OUTPUT_LINES:]
    if rc != 0:
        raise ModuleError(f"{command.split()[0]} in {container.name} exited {rc}: "
                          f"{' / '.join(output[-3:]) or 'no output'}", rc=rc, output=output)
    return output


def engine_client(url: str | None, timeout: int = 300) -> docker.DockerClient:
    """A client of the engine at engine_url that answered, or ModuleError saying why not.

    Unlike the CLIs, a module never starts podman's service: a process spawned by a module
    would outlive the play unseen, so the message says how to start it instead.
    """
    try:
        return connect(url or DEFAULT_ENGINE_URL, timeout, start_podman=False,
                       option="engine_url")
    except TelemetryError as err:
        raise ModuleError(str(err)) from err


def run_module(module: Any, action: Callable[[], Mapping[str, Any]]) -> None:
    """exit_json with the action's result, or fail_json with a TelemetryError's message."""
    try:
        result = dict(action())
    except TelemetryError as err:
        module.fail_json(msg=str(err), **getattr(err, "details", {}))
        return  # fail_json exits; this line only matters for a stand-in module in tests
    module.exit_json(**result)
