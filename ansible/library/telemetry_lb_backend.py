#!/usr/bin/python
"""Ansible module: take an API backend out of this host's nginx load balancer, or put it back.

  state=drained   mark the backend's servers down, reload nginx gracefully and wait until the
                  workers that were proxying to it have finished (or drain_timeout passed)
  state=restored  put it back in service and reload

Runs on the load balancer's host (delegate_to) while the backend's host restarts it. The
drained backends are recorded beside the rendered config (drained.json, under a lock, as
several API hosts may drain at once); the running nginx gets the rendered config with those
marked down (telemetry.common.loadbalancer), so a deploy that re-renders nginx.conf meanwhile
loses nothing. With nginx not running here there is nothing to drain: changed=false.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.contract import CONFIG_MOUNT
from ansible.module_utils.telemetry_common.loadbalancer import DrainPlan, drain
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
---
module: telemetry_lb_backend
short_description: Drain an API backend from the nginx load balancer, or restore it
options:
  server: {type: str, required: true, description: "the backend as nginx names it, address:port"}
  state: {type: str, required: true, choices: [drained, restored]}
  container: {type: str, required: true, description: the load balancer's container}
  config_dir: {type: path, required: true, description: "its config dir here, mounted in it"}
  config_src: {type: str, required: true, description: the rendered config's name in config_dir}
  config_dest: {type: str, required: true, description: where the container reads its config}
  drain_timeout: {type: int, default: 30, description: seconds to wait for in-flight requests}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""

RETURN = r"""
drained: {description: the backends now out of service, type: list}
kept: {description: why the backend stays in service when it could not be drained, type: str}
waited: {description: seconds spent waiting for in-flight requests, type: float}
"""

_DRAINED_SUFFIX = ".drained"
_STATE_FILE = "drained.json"
_POLL_SECONDS = 0.2
# nginx names its processes by role; old workers keep that title until they exit.
_WORKER_PIDS = "grep -l '^nginx: worker process' /proc/[0-9]*/cmdline | cut -d/ -f3"


@dataclass(frozen=True)
class Balancer:
    """The load balancer's container and its config files, here and inside it."""

    container: Any
    config_dir: Path
    config_src: str
    config_dest: str

    def workers(self) -> set[str]:
        rc, raw = self.container.exec_run(["sh", "-c", _WORKER_PIDS], user="root")
        return set(raw.decode(errors="replace").split()) if rc == 0 else set()

    def plan(self, drained: list[str]) -> DrainPlan:
        """The rendered config with `drained` marked down, as far as each can be."""
        rendered = self.config_dir / self.config_src
        if not rendered.is_file():
            raise ModuleError(f"{rendered} is missing: deploy the load balancer first "
                              "(telemetry-ansible deploy --tags loadbalancer)")
        return drain(rendered.read_text(), drained)

    def reload(self, plan: DrainPlan) -> None:
        """Give the running nginx the planned config, gracefully."""
        source = self.config_src
        drained_copy = self.config_dir / (source + _DRAINED_SUFFIX)
        if plan.drained:
            source += _DRAINED_SUFFIX
            drained_copy.write_text(plan.config)
        else:
            drained_copy.unlink(missing_ok=True)
        dest = shlex.quote(self.config_dest)
        install = f"cp {shlex.quote(CONFIG_MOUNT + '/' + source)} {dest}"
        # -c: the balancer's own config (and through it its pid file), which need not be
        # nginx's default one (the mariadb-proxy's is nginx-mariadb.conf).
        reload = f"nginx -t -q -c {dest} && nginx -s reload -c {dest}"
        exec_checked(self.container, f"{install} && {reload}", user="root")

    def wait_for_workers(self, old: set[str], timeout: int) -> float:
        """Wait until the workers from before the reload exited: they finish their requests."""
        started = time.monotonic()
        while old & self.workers() and time.monotonic() - started < timeout:
            time.sleep(_POLL_SECONDS)
        return round(time.monotonic() - started, 1)


@contextlib.contextmanager
def drained_set(config_dir: Path) -> Iterator[list[str]]:
    """The drained backends, locked for the caller's change and written back after it."""
    path = config_dir / _STATE_FILE
    with (config_dir / (_STATE_FILE + ".lock")).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        drained: list[str] = json.loads(path.read_text()) if path.is_file() else []
        yield drained
        path.write_text(json.dumps(drained) + "\n")


def running_balancer(client: Any, params: dict[str, Any]) -> Balancer | None:
    try:
        container = client.containers.get(params["container"])
    except docker.errors.NotFound:
        return None
    if container.status != "running":
        return None
    return Balancer(container, Path(params["config_dir"]), params["config_src"],
                    params["config_dest"])


def change(balancer: Balancer, params: dict[str, Any]) -> dict[str, Any]:
    server, draining = params["server"], params["state"] == "drained"
    with drained_set(balancer.config_dir) as drained:
        if (server in drained) == draining:
            return {"changed": False, "drained": list(drained)}
        wanted = [*drained, server] if draining else [s for s in drained if s != server]
        plan = balancer.plan(wanted)
        if server in plan.kept:
            return {"changed": False, "drained": list(drained),
                    "kept": f"{server} stays in service: {plan.kept[server]}"}
        if draining and server not in plan.drained:
            return {"changed": False, "drained": list(drained),
                    "msg": f"{server} is not a server of {balancer.config_src}: nothing to drain"}
        old_workers = balancer.workers()
        balancer.reload(plan)
        drained[:] = [s for s in wanted if s in plan.drained]
        waited = (balancer.wait_for_workers(old_workers, params["drain_timeout"])
                  if draining else 0.0)
        return {"changed": True, "drained": list(drained), "waited": waited}


def run(params: dict[str, Any]) -> dict[str, Any]:
    client = engine_client(params["engine_url"])
    try:
        balancer = running_balancer(client, params)
        if balancer is None:
            return {"changed": False, "drained": [],
                    "msg": f"{params['container']} is not running here: nothing to drain"}
        return change(balancer, params)
    finally:
        client.close()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "server": {"type": "str", "required": True},
            "state": {"type": "str", "required": True, "choices": ["drained", "restored"]},
            "container": {"type": "str", "required": True},
            "config_dir": {"type": "path", "required": True},
            "config_src": {"type": "str", "required": True},
            "config_dest": {"type": "str", "required": True},
            "drain_timeout": {"type": "int", "default": 30},
            "engine_url": ENGINE_URL_OPTION,
        },
        supports_check_mode=False,
    )
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
