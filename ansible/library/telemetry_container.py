#!/usr/bin/python
"""Ansible module: one container, recreated only when what runs differs from what is wanted.

Modelled on Kolla-Ansible's kolla_container, but small and over the `docker` Python SDK only.
It talks to any Docker API: podman's compatible socket (the default) or Docker's.

The comparison and the actions are plain functions; the engine client and the failure type
come from ansible/module_utils/telemetry_common, shared with the other modules:

    client = engine_client(url)
    wanted = Wanted.from_params({...})
    the_plan = plan(client, wanted)      # Plan(action, differences): changes nothing
    result = apply(client, wanted, the_plan)

`main()` is the thin AnsibleModule wrapper around them.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    run_module,
)

with contextlib.suppress(ImportError):  # engine_client() reports a missing SDK
    import docker
    import docker.errors

DOCUMENTATION = r"""
---
module: telemetry_container
short_description: Run one container; recreate it only when its configuration differs
description:
  - Compares the existing container (image ID, command, entrypoint, environment keys we set,
    volumes, network, ports, labels and config hash, user, restart policy, healthcheck,
    privileged, cap_add) with the wanted one. Any difference recreates it (remove, create,
    start); a matching container is never touched, only started if it is stopped.
  - Works with podman's Docker-compatible API and with Docker, through the docker Python SDK.
options:
  name:
    description: Container name.
    type: str
    required: true
  image:
    description:
      - Image reference; it must exist on the host (it is never pulled).
      - Required unless I(state=absent).
    type: str
  command:
    description: Command, a string (split like a shell) or a list.
    type: raw
  entrypoint:
    description: Entrypoint override, a string or a list.
    type: raw
  environment:
    description: Environment variables; only these keys are compared.
    type: dict
  volumes:
    description: List of C(src:dest[:ro|rw]); src is a named volume or an absolute host path.
    type: list
    elements: str
  network:
    description: Network name, or C(host). A missing named network is created.
    type: str
  ports:
    description:
      - Dict of container_port[/proto] to host_port or C(ip:host_port).
      - Or a list of C([ip:]host_port:container_port[/proto]); an int N means N:N.
    type: raw
  restart_policy:
    description: Restart policy.
    type: str
    default: unless-stopped
    choices: ["no", always, on-failure, unless-stopped]
  labels:
    description: Labels; only these keys are compared.
    type: dict
  config_hash:
    description: Hash of the rendered config files, stored as label C(telemetry.config-hash).
    type: str
  user:
    description: User to run as.
    type: str
  healthcheck:
    description:
      - Keys test (a list like [CMD, ...] or a shell string), interval, timeout, start_period
        (seconds) and retries. Set at create.
      - Unset keys take Docker's defaults (30, 30, 0 and 3).
    type: dict
  privileged:
    description: Run privileged.
    type: bool
    default: false
  cap_add:
    description: Capabilities to add.
    type: list
    elements: str
  stop_timeout:
    description: Seconds to wait after SIGTERM before SIGKILL.
    type: int
    default: 10
  state:
    description: Wanted state; C(restarted) restarts even a matching container.
    type: str
    default: started
    choices: [started, stopped, absent, restarted]
  engine_url:
    description: Docker API URL (podman's compatible socket or Docker's).
    type: str
    default: unix:///run/podman/podman.sock
requirements:
  - docker>=7 (Python SDK, on the managed host)
"""

EXAMPLES = r"""
- name: Memcached
  telemetry_container:
    name: memcached
    image: telemetry/memcached:zed
    network: telemetry
    volumes:
      - /etc/telemetry/memcached:/var/lib/telemetry/config_files:ro
    config_hash: "{{ memcached_config.checksum }}"
"""

RETURN = r"""
action:
  description:
    - One of created, recreated, started, restarted, removed, stopped, unchanged.
    - In check mode, what would be done.
  type: str
  returned: always
differences:
  description: Why it was (or would be) recreated, a list of dicts with field, running, wanted.
  type: list
  returned: always
container_id:
  description: The container's ID afterwards; null when there is none.
  type: str
  returned: always
image_id:
  description: The wanted image's ID; null with state=absent.
  type: str
  returned: always
image_labels:
  description: The wanted image's labels (e.g. telemetry.openstack-release); {} with state=absent.
  type: dict
  returned: always
running_image_labels:
  description: The labels of the image the existing container runs; {} when there is none.
  type: dict
  returned: always
was_running:
  description: The existing container was running (false when there is none).
  type: bool
  returned: always
"""

CONFIG_HASH_LABEL = "telemetry.config-hash"
NANOSECONDS = 1_000_000_000
HEALTHCHECK_DEFAULTS = {"interval": 30, "timeout": 30, "start_period": 0, "retries": 3}


# --------------------------------------------------------------------------- wanted state


@dataclass(frozen=True)
class Mount:
    source: str
    destination: str
    read_only: bool = False

    @property
    def kind(self) -> str:
        return "bind" if self.source.startswith("/") else "volume"

    def spec(self) -> str:
        return f"{self.source}:{self.destination}:{'ro' if self.read_only else 'rw'}"


@dataclass
class Wanted:
    """What the operator asked for, normalised."""

    name: str
    image: str | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    volumes: list[Mount] = field(default_factory=list)
    network: str | None = None
    ports: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    restart_policy: str = "unless-stopped"
    labels: dict[str, str] = field(default_factory=dict)
    config_hash: str | None = None
    user: str | None = None
    healthcheck: dict[str, Any] | None = None
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    stop_timeout: int = 10
    state: str = "started"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Wanted:
        state = params.get("state") or "started"
        if state != "absent" and not params.get("image"):
            raise ModuleError(f"image is required with state={state}")
        return cls(
            name=params["name"],
            image=params.get("image"),
            command=_argv(params.get("command")),
            entrypoint=_argv(params.get("entrypoint")),
            environment=_strings(params.get("environment")),
            volumes=[parse_volume(spec) for spec in params.get("volumes") or []],
            network=params.get("network") or None,
            ports=parse_ports(params.get("ports")),
            restart_policy=params.get("restart_policy") or "unless-stopped",
            labels=_strings(params.get("labels")),
            config_hash=params.get("config_hash") or None,
            user=params.get("user") or None,
            healthcheck=parse_healthcheck(params.get("healthcheck")),
            privileged=bool(params.get("privileged")),
            cap_add=_capabilities(params.get("cap_add")),
            stop_timeout=int(params.get("stop_timeout") or 10),
            state=state,
        )

    @property
    def all_labels(self) -> dict[str, str]:
        if self.config_hash is None:
            return dict(self.labels)
        return {**self.labels, CONFIG_HASH_LABEL: self.config_hash}


def _argv(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return [str(item) for item in value]


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(key): str(value) for key, value in (mapping or {}).items()}


def _capabilities(caps: list[str] | None) -> list[str]:
    return sorted({cap.upper().removeprefix("CAP_") for cap in caps or []})


def parse_volume(spec: str) -> Mount:
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/"):
        raise ModuleError(f"volume {spec!r}: expected 'src:dest[:ro|rw]' with an absolute dest")
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise ModuleError(f"volume {spec!r}: mode must be ro or rw, not {mode!r}")
    return Mount(source=parts[0], destination=parts[1], read_only=mode == "ro")


def parse_ports(ports: Mapping[Any, Any] | list[Any] | None) -> dict[str, list[tuple[str, str]]]:
    """{"80/tcp": [(host_ip, host_port)]} from a dict or a list of "[ip:]host:container"."""
    pairs: list[tuple[str, str]] = []
    if isinstance(ports, Mapping):
        pairs = [(str(container), str(host)) for container, host in ports.items()]
    elif ports:
        pairs = [_split_port_spec(str(item)) for item in ports]
    bindings: dict[str, list[tuple[str, str]]] = {}
    for container, host in pairs:
        key = container if "/" in container else f"{container}/tcp"
        ip, _, port = host.rpartition(":")
        if not port.isdigit() or not key.split("/")[0].isdigit():
            raise ModuleError(f"port {container!r} -> {host!r}: expected numeric ports")
        bindings.setdefault(key, []).append((_host_ip(ip), port))
    return {key: sorted(value) for key, value in bindings.items()}


def _split_port_spec(spec: str) -> tuple[str, str]:
    if ":" not in spec:
        return spec, spec.split("/")[0]
    host, _, container = spec.rpartition(":")
    return container, host


def _host_ip(ip: str) -> str:
    return "" if ip in ("", "0.0.0.0") else ip


def parse_healthcheck(check: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Docker API's Healthcheck object, every field explicit (engines fill in defaults)."""
    if not check:
        return None
    test = check.get("test")
    if not test:
        raise ModuleError("healthcheck needs a 'test' (a list like [CMD, ...] or a shell string)")
    values = {key: check.get(key, default) for key, default in HEALTHCHECK_DEFAULTS.items()}
    return {
        "Test": ["CMD-SHELL", test] if isinstance(test, str) else [str(item) for item in test],
        "Interval": int(float(values["interval"]) * NANOSECONDS),
        "Timeout": int(float(values["timeout"]) * NANOSECONDS),
        "StartPeriod": int(float(values["start_period"]) * NANOSECONDS),
        "Retries": int(values["retries"]),
    }


# --------------------------------------------------------------------------- comparison


@dataclass
class Difference:
    field: str
    running: Any
    wanted: Any


@dataclass
class Plan:
    """What `apply` will do, and why."""

    action: str
    differences: list[Difference] = field(default_factory=list)
    container_id: str | None = None
    image_id: str | None = None
    # What the images say of themselves: upgrade compares the release they were built for.
    image_labels: dict[str, str] = field(default_factory=dict)
    running_image_labels: dict[str, str] = field(default_factory=dict)
    # The container this replaces was running: what must be handed over before it stops.
    was_running: bool = False

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    def as_result(self) -> dict[str, Any]:
        return {"changed": self.changed, "action": self.action,
                "differences": [asdict(diff) for diff in self.differences],
                "container_id": self.container_id, "image_id": self.image_id,
                "image_labels": self.image_labels,
                "running_image_labels": self.running_image_labels,
                "was_running": self.was_running}


def wanted_view(wanted: Wanted, image: Mapping[str, Any]) -> dict[str, Any]:
    """The compared fields as wanted; unset command/entrypoint/user fall back to the image's."""
    config = image.get("Config") or {}
    view: dict[str, Any] = {
        "image": image["Id"],
        "command": wanted.command if wanted.command is not None else list(config.get("Cmd") or []),
        "entrypoint": (wanted.entrypoint if wanted.entrypoint is not None
                       else list(config.get("Entrypoint") or [])),
        "environment": dict(wanted.environment),
        "volumes": sorted(mount.spec() for mount in wanted.volumes),
        "ports": {} if wanted.network == "host" else wanted.ports,
        "labels": dict(wanted.labels),
        "user": wanted.user if wanted.user is not None else config.get("User") or "",
        "restart_policy": wanted.restart_policy,
        "privileged": wanted.privileged,
        "cap_add": wanted.cap_add,
    }
    optional = {"network": wanted.network, "config_hash": wanted.config_hash,
                "healthcheck": wanted.healthcheck}
    view.update({key: value for key, value in optional.items() if value is not None})
    return view


def running_view(container: Mapping[str, Any], wanted: Wanted,
                 image: Mapping[str, Any]) -> dict[str, Any]:
    """The same fields read from `docker inspect` of the existing container."""
    config = container.get("Config") or {}
    host = container.get("HostConfig") or {}
    labels = config.get("Labels") or {}
    return {
        "image": container.get("Image"),
        "command": list(config.get("Cmd") or []),
        "entrypoint": list(config.get("Entrypoint") or []),
        "environment": _env_subset(config.get("Env") or [], wanted.environment),
        "volumes": _running_volumes(container, wanted, image),
        "ports": _running_ports(host.get("PortBindings") or {}),
        "labels": {key: labels.get(key) for key in wanted.labels},
        "user": config.get("User") or "",
        "restart_policy": (host.get("RestartPolicy") or {}).get("Name") or "no",
        "privileged": bool(host.get("Privileged")),
        "cap_add": _capabilities(host.get("CapAdd")),
        "network": _running_network(container),
        "config_hash": labels.get(CONFIG_HASH_LABEL),
        "healthcheck": _running_healthcheck(config.get("Healthcheck")),
    }


def _env_subset(env: list[str], keys: Mapping[str, str]) -> dict[str, str | None]:
    pairs = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: pairs.get(key) for key in keys}


def _running_volumes(container: Mapping[str, Any], wanted: Wanted,
                     image: Mapping[str, Any]) -> list[str]:
    """Named volumes and binds; anonymous volumes of the image's VOLUMEs are not ours."""
    image_volumes = set((image.get("Config") or {}).get("Volumes") or {})
    wanted_destinations = {mount.destination for mount in wanted.volumes}
    specs = []
    for mount in container.get("Mounts") or []:
        kind, destination = mount.get("Type"), mount.get("Destination")
        if kind not in ("bind", "volume"):
            continue
        if (kind == "volume" and destination in image_volumes
                and destination not in wanted_destinations):
            continue
        source = mount.get("Name") if kind == "volume" else mount.get("Source")
        specs.append(Mount(source, destination, not mount.get("RW", True)).spec())
    return sorted(specs)


def _running_ports(bindings: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    result = {}
    for key, hosts in bindings.items():
        result[key] = sorted((_host_ip(host.get("HostIp") or ""), str(host.get("HostPort")))
                             for host in hosts or [])
    return result


def _running_network(container: Mapping[str, Any]) -> str:
    if (container.get("HostConfig") or {}).get("NetworkMode") == "host":
        return "host"
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    return ",".join(sorted(networks))


def _running_healthcheck(check: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not check:
        return None
    return {"Test": list(check.get("Test") or []), "Interval": check.get("Interval") or 0,
            "Timeout": check.get("Timeout") or 0, "StartPeriod": check.get("StartPeriod") or 0,
            "Retries": check.get("Retries") or 0}


def compare(container: Mapping[str, Any], wanted: Wanted,
            image: Mapping[str, Any]) -> list[Difference]:
    want = wanted_view(wanted, image)
    have = running_view(container, wanted, image)
    return [_redacted(Difference(name, _plain(have.get(name)), _plain(value)))
            for name, value in want.items() if have.get(name) != value]


def _redacted(diff: Difference) -> Difference:
    """Environment values may be secrets: report which keys differ, never their values."""
    if diff.field != "environment":
        return diff
    running, wanted = diff.running or {}, diff.wanted or {}
    changed = sorted(key for key in set(running) | set(wanted)
                     if running.get(key) != wanted.get(key))
    return Difference(diff.field, {key: "<redacted>" for key in changed},
                      {key: "<changed>" for key in changed})


def _plain(value: Any) -> Any:
    """JSON-friendly (tuples of port bindings become "ip:port" strings)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return ":".join(part for part in value if part)
    return value


# --------------------------------------------------------------------------- engine


def inspect_image(client: docker.DockerClient, reference: str) -> dict[str, Any]:
    try:
        return client.api.inspect_image(reference)
    except docker.errors.ImageNotFound as err:
        raise ModuleError(f"image {reference} is not on this host: run telemetry-ansible pull "
                          "(it fetches each host's images from telemetry_registry), or build it "
                          "here with telemetry-build; deploy never pulls nor builds") from err


def inspect_container(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    try:
        return client.api.inspect_container(name)
    except docker.errors.NotFound:
        return None


def plan(client: docker.DockerClient, wanted: Wanted) -> Plan:
    """Decide what to do; reads only."""
    container = inspect_container(client, wanted.name)
    container_id = container["Id"] if container else None
    if wanted.state == "absent":
        return Plan("removed" if container else "unchanged", container_id=container_id)
    image = inspect_image(client, wanted.image or "")
    labels = _labels(image)
    if container is None:
        return Plan("created", image_id=image["Id"], image_labels=labels)
    differences = compare(container, wanted, image)
    running = bool((container.get("State") or {}).get("Running"))
    action = _action(wanted.state, running, bool(differences))
    return Plan(action, differences, container_id, image["Id"], labels,
                _running_image_labels(client, container), was_running=running)


def _labels(image: Mapping[str, Any]) -> dict[str, str]:
    return dict((image.get("Config") or {}).get("Labels") or {})


def _running_image_labels(client: docker.DockerClient,
                          container: Mapping[str, Any]) -> dict[str, str]:
    try:
        return _labels(client.api.inspect_image(container.get("Image") or ""))
    except docker.errors.ImageNotFound:
        return {}


def _action(state: str, running: bool, differs: bool) -> str:
    if differs:
        return "recreated"
    if state == "stopped":
        return "stopped" if running else "unchanged"
    if state == "restarted":
        return "restarted" if running else "started"
    return "unchanged" if running else "started"


def create_kwargs(wanted: Wanted) -> dict[str, Any]:
    """Arguments of docker's containers.create for the wanted container."""
    kwargs: dict[str, Any] = {
        "image": wanted.image, "name": wanted.name, "detach": True,
        "environment": wanted.environment, "labels": wanted.all_labels,
        "volumes": [mount.spec() for mount in wanted.volumes],
        "restart_policy": {"Name": wanted.restart_policy},
        "privileged": wanted.privileged,
    }
    optional = {"command": wanted.command, "entrypoint": wanted.entrypoint, "user": wanted.user,
                "healthcheck": wanted.healthcheck, "cap_add": wanted.cap_add or None}
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    if wanted.network == "host":
        kwargs["network_mode"] = "host"
    else:
        if wanted.network:
            kwargs["network"] = wanted.network
        if wanted.ports:
            kwargs["ports"] = wanted.ports
    return kwargs


def ensure_network(client: docker.DockerClient, name: str | None) -> None:
    if not name or name == "host" or client.networks.list(names=[name]):
        return
    client.networks.create(name)


def apply(client: docker.DockerClient, wanted: Wanted, the_plan: Plan) -> Plan:
    """Carry out the plan; returns it with the resulting container ID."""
    try:
        container_id = _carry_out(client, wanted, the_plan)
    except docker.errors.APIError as err:
        raise ModuleError(f"{the_plan.action} {wanted.name} failed: {err.explanation or err}. "
                          f"See 'podman logs {wanted.name}' (or docker logs)") from err
    return Plan(the_plan.action, the_plan.differences, container_id, the_plan.image_id,
                the_plan.image_labels, the_plan.running_image_labels)


def _carry_out(client: docker.DockerClient, wanted: Wanted, the_plan: Plan) -> str | None:
    action, current = the_plan.action, the_plan.container_id
    if action == "unchanged":
        return current
    if action in ("removed", "recreated"):
        _remove(client, current or wanted.name, wanted.stop_timeout)
        if action == "removed":
            return None
    if action in ("created", "recreated"):
        return _create(client, wanted)
    container = client.containers.get(current or wanted.name)
    if action == "started":
        container.start()
    elif action == "restarted":
        container.restart(timeout=wanted.stop_timeout)
    elif action == "stopped":
        container.stop(timeout=wanted.stop_timeout)
    return container.id


def _remove(client: docker.DockerClient, name: str, stop_timeout: int) -> None:
    """Stop gracefully, then remove with its anonymous volumes (named volumes stay)."""
    container = client.containers.get(name)
    if container.status == "running":
        container.stop(timeout=stop_timeout)
    container.remove(force=True, v=True)


def _create(client: docker.DockerClient, wanted: Wanted) -> str:
    ensure_network(client, wanted.network)
    container = client.containers.create(**create_kwargs(wanted))
    if wanted.state != "stopped":
        container.start()
    return container.id


# --------------------------------------------------------------------------- Ansible

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str"},
    "command": {"type": "raw"},
    "entrypoint": {"type": "raw"},
    "environment": {"type": "dict", "default": {}},
    "volumes": {"type": "list", "elements": "str", "default": []},
    "network": {"type": "str"},
    "ports": {"type": "raw"},
    "restart_policy": {"type": "str", "default": "unless-stopped",
                       "choices": ["no", "always", "on-failure", "unless-stopped"]},
    "labels": {"type": "dict", "default": {}},
    "config_hash": {"type": "str"},
    "user": {"type": "str"},
    "healthcheck": {"type": "dict"},
    "privileged": {"type": "bool", "default": False},
    "cap_add": {"type": "list", "elements": "str", "default": []},
    "stop_timeout": {"type": "int", "default": 10},
    "state": {"type": "str", "default": "started",
              "choices": ["started", "stopped", "absent", "restarted"]},
    "engine_url": ENGINE_URL_OPTION,
}


def run(params: Mapping[str, Any], check_mode: bool) -> dict[str, Any]:
    """Everything main() does, minus Ansible: the module's result or ModuleError."""
    wanted = Wanted.from_params(params)
    client = engine_client(params.get("engine_url"))
    try:
        the_plan = plan(client, wanted)
        return (the_plan if check_mode else apply(client, wanted, the_plan)).as_result()
    finally:
        client.close()


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "started", ["image"]),
                                        ("state", "stopped", ["image"]),
                                        ("state", "restarted", ["image"])])
    run_module(module, lambda: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
