#!/usr/bin/python
"""Ansible module: the state of this host's Galera node, read from its mariadb volume.

What the deploy and telemetry-ansible mariadb-recovery decide from (as Kolla-Ansible's
mariadb role does): whether the node ever existed (a new cluster is bootstrapped only when no
node did), how far it got (the node with the highest seqno bootstraps a cluster that lost every
node) and, once chosen, marking that node safe to bootstrap.

  recover=false  volume, and grastate.dat's uuid, seqno and safe_to_bootstrap as written
  recover=true   also runs `mariadbd --wsrep-recover` on the stopped node's data: after a
                 crash grastate.dat says seqno -1 and only InnoDB knows the last commit
  safe_to_bootstrap=true  sets safe_to_bootstrap: 1 in grastate.dat (only that line changes)

The node's mariadb container must be stopped for recover and safe_to_bootstrap.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.contract import CONFIG_MOUNT
from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    run_module,
)

with contextlib.suppress(ImportError):  # engine_client() reports a missing SDK
    import docker.errors

DOCUMENTATION = r"""
module: telemetry_galera
short_description: Read (and mark safe to bootstrap) this host's Galera node from its volume
options:
  volume: {type: str, default: mariadb, description: the mariadb data volume}
  image: {type: str, description: the mariadb image, for recover}
  config_dir: {type: path, description: "the rendered mariadb config dir (my.cnf), for recover"}
  recover: {type: bool, default: false}
  safe_to_bootstrap: {type: bool, default: false}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""

RETURN = r"""
volume: {description: whether the volume exists, type: bool}
uuid: {description: the cluster's state UUID ("" when unknown), type: str}
seqno: {description: the last committed write set (-1 when unknown), type: int}
safe_to_bootstrap: {description: grastate.dat's flag, type: bool}
"""

GRASTATE = "grastate.dat"
_RECOVERED = re.compile(r"WSREP: Recovered position: ([0-9a-f-]+):(-?\d+)")
# Written by mariadbd into the data volume and read there from the host: the container's own
# log may be gone once it is removed.
_RECOVER_LOG = "wsrep-recover.log"


@dataclass(frozen=True)
class NodeState:
    volume: bool
    uuid: str = ""
    seqno: int = -1
    safe_to_bootstrap: bool = False


def parse_grastate(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith("#"):
            fields[key.strip()] = value.strip()
    return fields


def volume_path(client: Any, name: str) -> Path | None:
    try:
        return Path(client.volumes.get(name).attrs["Mountpoint"])
    except docker.errors.NotFound:
        return None


def read_state(data_dir: Path | None) -> NodeState:
    if data_dir is None:
        return NodeState(volume=False)
    grastate = data_dir / GRASTATE
    if not grastate.is_file():
        return NodeState(volume=True)
    fields = parse_grastate(grastate.read_text())
    return NodeState(volume=True, uuid=fields.get("uuid", ""),
                     seqno=int(fields.get("seqno", "-1") or -1),
                     safe_to_bootstrap=fields.get("safe_to_bootstrap") == "1")


def recover_position(client: Any, image: str, volume: str, config_dir: str,
                     data_dir: Path) -> tuple[str, int]:
    """mariadbd --wsrep-recover on the node's data: (uuid, seqno) of its last commit."""
    log = data_dir / _RECOVER_LOG
    log.unlink(missing_ok=True)
    try:
        client.containers.run(
            image, entrypoint=["mariadbd", f"--defaults-file={CONFIG_MOUNT}/my.cnf",
                               "--user=mysql", "--wsrep-recover",
                               f"--log-error=/var/lib/mysql/{_RECOVER_LOG}"],
            network_mode="host", remove=True,
            volumes={volume: {"bind": "/var/lib/mysql", "mode": "rw"},
                     config_dir: {"bind": CONFIG_MOUNT, "mode": "ro"}})
    except docker.errors.ImageNotFound as err:
        raise ModuleError(f"image {image} is not on this host: run telemetry-ansible pull") from err
    except docker.errors.ContainerError as err:
        raise ModuleError(f"mariadbd --wsrep-recover exited {err.exit_status} on volume "
                          f"{volume}: {_tail(log)}") from err
    output = log.read_text(errors="replace") if log.is_file() else ""
    log.unlink(missing_ok=True)
    found = _RECOVERED.findall(output)
    if not found:
        last = " / ".join(output.strip().splitlines()[-3:]) or "no output"
        raise ModuleError(f"mariadbd --wsrep-recover found no position in volume {volume}: "
                          f"{last}", output=output.splitlines()[-30:])
    uuid, seqno = found[-1]
    return uuid, int(seqno)


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
    return " / ".join(lines[-3:]) or "no output"


def mark_safe_to_bootstrap(data_dir: Path) -> bool:
    grastate = data_dir / GRASTATE
    if not grastate.is_file():
        raise ModuleError(f"{grastate} does not exist: this node never joined a cluster, so it "
                          "cannot bootstrap one")
    text = grastate.read_text()
    marked = re.sub(r"(?m)^safe_to_bootstrap:.*$", "safe_to_bootstrap: 1", text)
    grastate.write_text(marked)
    return marked != text


def run(params: dict[str, Any]) -> dict[str, Any]:
    client = engine_client(params["engine_url"])
    try:
        data_dir = volume_path(client, params["volume"])
        state = read_state(data_dir)
        changed = False
        if params["recover"] and data_dir is not None:
            if not (params["image"] and params["config_dir"]):
                raise ModuleError("recover needs image and config_dir")
            uuid, seqno = recover_position(client, params["image"], params["volume"],
                                           params["config_dir"], data_dir)
            state = NodeState(True, uuid or state.uuid, max(seqno, state.seqno),
                              state.safe_to_bootstrap)
        if params["safe_to_bootstrap"]:
            if data_dir is None:
                raise ModuleError(f"volume {params['volume']} does not exist on this host")
            changed = mark_safe_to_bootstrap(data_dir)
            state = read_state(data_dir)
        return {"changed": changed, **asdict(state)}
    finally:
        client.close()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "volume": {"type": "str", "default": "mariadb"},
            "image": {"type": "str"},
            "config_dir": {"type": "path"},
            "recover": {"type": "bool", "default": False},
            "safe_to_bootstrap": {"type": "bool", "default": False},
            "engine_url": ENGINE_URL_OPTION,
        },
        supports_check_mode=False,
    )
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
