"""The podman CLI, as the harness uses it: one argv list per call, output captured.

The CLI rather than the Docker-compatible API because `kube play`, pods and `volume import`
are podman's own (the libpod API has them too, but not the docker SDK the project uses).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telemetry.common.errors import ActionFailed


class PodmanError(ActionFailed):
    """A podman command failed; the message has the command and what it printed."""


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def explain(self) -> str:
        output = (self.stderr.strip() or self.stdout.strip())[-2000:]
        return f"`{' '.join(self.argv[:4])} ...` exited {self.returncode}: {output}"


@dataclass(frozen=True)
class ContainerState:
    name: str
    status: str          # created, running, exited...
    exit_code: int


class Podman:
    def __init__(self, binary: str = "podman") -> None:
        self.binary = binary

    def run(self, *args: str, stdin: str | bytes | None = None, check: bool = True,
            timeout: float | None = None) -> Result:
        argv = (self.binary, *args)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        try:
            done = subprocess.run(argv, input=data, capture_output=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise PodmanError(f"`{' '.join(argv[:4])} ...` did not finish in {timeout:g}s") \
                from exc
        result = Result(argv, done.returncode, done.stdout.decode(errors="replace"),
                        done.stderr.decode(errors="replace"))
        if check and not result.ok:
            raise PodmanError(result.explain())
        return result

    def exists(self, what: str, name: str) -> bool:
        """`podman <what> exists NAME` for image, pod, container, volume, network."""
        return self.run(what, "exists", name, check=False).returncode == 0

    def names(self, what: str, *filters: str) -> list[str]:
        """Names of pods, volumes or networks matching `--filter` expressions."""
        argv = [what, "ls", "--format", "{{.Name}}"]
        for expression in filters:
            argv += ["--filter", expression]
        return self.run(*argv).stdout.split()

    def pod(self, name: str) -> dict[str, Any] | None:
        result = self.run("pod", "inspect", name, check=False)
        if not result.ok:
            return None
        found = json.loads(result.stdout)
        return found[0] if isinstance(found, list) else found

    def containers(self, names: Sequence[str]) -> list[ContainerState]:
        if not names:
            return []
        result = self.run("container", "inspect", *names, check=False)
        found = json.loads(result.stdout or "[]")
        return [ContainerState(c["Name"], c["State"]["Status"], c["State"]["ExitCode"])
                for c in found]

    def logs(self, container: str, tail: int = 40) -> str:
        result = self.run("logs", "--tail", str(tail), container, check=False)
        return (result.stdout + result.stderr).strip() if result.ok else ""

    def exec_ok(self, container: str, command: Sequence[str], timeout: float) -> Result:
        try:
            return self.run("exec", container, *command, check=False, timeout=timeout)
        except PodmanError as exc:
            return Result((self.binary, "exec", container, *command), -1, "", str(exc))
