"""How one Kubernetes pod template becomes a pod podman 4.3.1 can play (pure): the names of
the podman objects that stand in for ConfigMaps, Secrets, claims and emptyDirs, the spec
rewritten for podman, Services checked against the ports they reach. Why each rewrite is needed
is in telemetry.k8s.podman_play.plan's docstring, and in a comment where it is done.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telemetry.common.errors import BadInput

PREFIX = "k8s-"
# On every pod and volume the harness creates; the value is the namespace rendered.
LABEL = "telemetry.openstack.org/harness"
# The Kubernetes kind a pod stands for (Job, Deployment, DaemonSet).
KIND_LABEL = "telemetry.openstack.org/harness-kind"
# Hash of what a pod was played from: an `up` with the same hash leaves the pod alone.
HASH_LABEL = "telemetry.openstack.org/harness-hash"
WORKLOAD_KINDS = ("Deployment", "DaemonSet")
# The volumes podman creates itself from a play file carry no label: found by these prefixes.
CONFIGMAP_PREFIX = f"{PREFIX}cm-"
EMPTYDIR_PREFIX = f"{PREFIX}empty-"
SECRET_PREFIX = f"{PREFIX}secret-"
CLAIM_PREFIX = f"{PREFIX}pvc-"
MAX_ANNOTATION = 63
# Kubernetes' backoffLimit of a Job that sets none.
DEFAULT_BACKOFF = 6
# Kubernetes' defaultMode of secret and configMap volumes.
DEFAULT_MODE = 0o644


class PlanError(BadInput):
    """A manifest uses something the harness cannot stand in for; the message says what."""


@dataclass(frozen=True)
class Published:
    """A port of the published Service, bound on the host."""

    service: str
    address: str
    port: int
    protocol: str = "TCP"

    @property
    def label(self) -> str:
        return f"{self.address}:{self.port}/{self.protocol.lower()}"


@dataclass(frozen=True)
class SecretFile:
    path: str
    data: bytes
    mode: int


@dataclass(frozen=True)
class SecretVolume:
    """A Secret as a named volume holding its decoded files (one per Secret and mode)."""

    name: str
    secret: str
    files: tuple[SecretFile, ...]


@dataclass(frozen=True)
class Probe:
    container: str            # the podman container name (<pod>-<container>)
    command: tuple[str, ...]


def pod_name(workload: str, replica: int | None = None) -> str:
    """A Job's pod (replica None) or one replica of a Deployment or DaemonSet."""
    return f"{PREFIX}{workload}" if replica is None else f"{PREFIX}{workload}-{replica}"


def harness_variables() -> dict[str, Any]:
    """Variables the harness renders with, under the operator's -e: what a cluster's nodes
    would provide. ceilometer-central polls snmpd at the node addresses (snmpd is a DaemonSet
    on the host network); here snmpd runs in its own pod, reached by the pod's name."""
    return {"snmp_target_addresses": [pod_name("snmpd", 0)]}


def network_name(namespace: str) -> str:
    return f"{PREFIX}{namespace}"


def short_hash(value: Any, length: int = 8) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def configmap_volume(name: str, data: Mapping[str, Any]) -> str:
    return f"{CONFIGMAP_PREFIX}{name}-{short_hash(dict(data))}"


def claim_volume(claim: str) -> str:
    return f"{CLAIM_PREFIX}{claim}"


def emptydir_volume(pod: str, volume: str) -> str:
    return f"{EMPTYDIR_PREFIX}{pod.removeprefix(PREFIX)}-{volume}"


def secret_files(secret: Mapping[str, Any], mode: int) -> tuple[SecretFile, ...]:
    """The files a secret volume shows: `data` decoded, `stringData` as is."""
    files = {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}
    files.update({key: str(value).encode()
                  for key, value in (secret.get("stringData") or {}).items()})
    return tuple(SecretFile(path, files[path], mode) for path in sorted(files))


def secret_volume(secret: Mapping[str, Any], mode: int) -> SecretVolume:
    name = secret["metadata"]["name"]
    files = secret_files(secret, mode)
    digest = short_hash([(f.path, f.data.hex(), f.mode) for f in files])
    return SecretVolume(name=f"{SECRET_PREFIX}{name}-{digest}", secret=name, files=files)


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def container_ports(spec: Mapping[str, Any]) -> dict[str, int]:
    """Named and numbered ports of a pod's containers, as targetPort may name them."""
    ports: dict[str, int] = {}
    for container in spec.get("containers", []):
        for port in container.get("ports", []):
            ports[str(port["containerPort"])] = port["containerPort"]
            if "name" in port:
                ports[port["name"]] = port["containerPort"]
    return ports


def check_service_ports(service: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
    """A DNS alias reaches the pod's own ports: the Service must not remap any."""
    name = service["metadata"]["name"]
    ports = container_ports(spec)
    for port in service["spec"].get("ports", []):
        target = str(port.get("targetPort", port["port"]))
        if target not in ports:
            raise PlanError(f"Service {name}: targetPort {target} is not a port of the pods it "
                            "selects")
        if ports[target] != port["port"]:
            raise PlanError(f"Service {name} maps port {port['port']} to {ports[target]}: a "
                            "network alias cannot remap ports")


def pod_spec(template_spec: Mapping[str, Any], pod: str, job: bool,
             configmaps: Mapping[str, str], secrets: Mapping[tuple[str, int], SecretVolume],
             publish: Sequence[Published]) -> dict[str, Any]:
    """A pod template's spec as podman 4.3.1 runs it (see the module docstring for why)."""
    spec = copy.deepcopy(dict(template_spec))
    spec["restartPolicy"] = "Never" if job else "OnFailure"
    spec.pop("hostNetwork", None)
    spec.pop("dnsPolicy", None)
    renamed: dict[str, str] = {}
    volumes = []
    for volume in spec.get("volumes", []):
        volume = dict(volume)
        if "configMap" in volume:
            source = dict(volume["configMap"])
            source["name"] = configmaps[source["name"]]
            volume["configMap"] = source
        elif "secret" in volume:
            source = volume.pop("secret")
            mode = source.get("defaultMode", DEFAULT_MODE)
            volume["persistentVolumeClaim"] = {
                "claimName": secrets[(source["secretName"], mode)].name}
        elif "persistentVolumeClaim" in volume:
            volume["persistentVolumeClaim"] = {
                **volume["persistentVolumeClaim"],
                "claimName": claim_volume(volume["persistentVolumeClaim"]["claimName"])}
        elif "emptyDir" in volume:
            renamed[volume["name"]] = emptydir_volume(pod, volume["name"])
            volume["name"] = renamed[volume["name"]]
        else:
            raise PlanError(f"pod {pod}: volume {volume['name']} is of a type the harness "
                            "does not map")
        volumes.append(volume)
    if volumes:
        spec["volumes"] = volumes
    for key in ("initContainers", "containers"):
        spec[key] = [_container(c, renamed, publish) for c in spec.get(key, [])]
        if not spec[key]:
            del spec[key]
    return spec


def _container(container: Mapping[str, Any], renamed: Mapping[str, str],
               publish: Sequence[Published]) -> dict[str, Any]:
    container = dict(container)
    # podman turns a liveness probe into a healthcheck run by systemd timers, and there is
    # no systemd here: it would only log errors. Readiness probes the harness runs itself.
    container.pop("livenessProbe", None)
    if "volumeMounts" in container:
        container["volumeMounts"] = [{**m, "name": renamed.get(m["name"], m["name"])}
                                     for m in container["volumeMounts"]]
    # podman 4.3.1 binds every containerPort on the host even without a hostPort: only the
    # published ones are kept (Services were resolved against the ports before this).
    wanted = {(p.port, p.protocol): p for p in publish}
    ports = []
    for port in container.pop("ports", []):
        found = wanted.get((port["containerPort"], port.get("protocol", "TCP")))
        if found:
            ports.append({**port, "hostPort": found.port, "hostIP": found.address})
    if ports:
        container["ports"] = ports
    return container


def readiness(pod: str, spec: Mapping[str, Any]) -> tuple[Probe, ...]:
    probes = []
    for container in spec.get("containers", []):
        probe = container.get("readinessProbe")
        if probe is None:
            continue
        if "exec" not in probe:
            raise PlanError(f"pod {pod}: container {container['name']} has a readiness probe "
                            "that is not exec; the harness runs exec probes only")
        probes.append(Probe(f"{pod}-{container['name']}", tuple(probe["exec"]["command"])))
    return tuple(probes)
