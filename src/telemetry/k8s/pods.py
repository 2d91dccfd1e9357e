"""Catalog containers as the pieces of a pod spec: image, environment, ports, probes, mounts,
volumes and the init containers that wait for what the pod needs.

The result is plain data (dicts and lists) that the resource templates under services/ lay out;
each fact still comes from the catalog or the variables, never from a template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from telemetry.catalog import Catalog, Container, container_enabled
from telemetry.common.contract import CONFIG_MOUNT, healthcheck_command
from telemetry.common.errors import BadInput
from telemetry.k8s.configs import SECRETS_MOUNT
from telemetry.k8s.registry import Registry, Resource

PART_OF = "telemetry"
MANAGED_BY = "telemetry-k8s"
CONFIG_HASH_ANNOTATION = "telemetry.openstack.org/config-hash"
# Waits run in the toolbox image: it has python3 and telemetry.bootstrap (wait-http).
_TCP_WAIT = """\
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + limit
while True:
    try:
        socket.create_connection((host, port), timeout=5).close()
        print(f"{host}:{port} accepts connections")
        break
    except OSError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"{host}:{port} not reachable after {limit:g}s: {exc}")
        time.sleep(2)
"""


class PodError(BadInput):
    """A registry entry names a container, volume or service the catalog does not have."""


@dataclass(frozen=True)
class Endpoint:
    """A Service a pod may wait for: HTTP ones by their healthcheck path, others by TCP."""

    service: str
    host: str
    port: int
    http_path: str | None

    @property
    def wait_name(self) -> str:
        return f"wait-{self.host}"[:63]


def k8s_name(name: str) -> str:
    """A catalog name (keystone_fernet, keystone_lb) as a DNS label (keystone-fernet)."""
    return name.replace("_", "-").lower()


def image_reference(variables: Mapping[str, Any], image: str) -> str:
    """telemetry-build's reference for an image (deploy.yml's prefix and tag)."""
    return f"{variables['telemetry_image_prefix']}{image}:{variables['telemetry_tag']}"


def pvc_name(service: str, volume: str) -> str:
    name = k8s_name(volume)
    return name if name == service or name.startswith(f"{service}-") else f"{service}-{name}"


def labels(service: str, component: str) -> dict[str, str]:
    return {**selector(service, component), "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY}


def selector(service: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/component": component}


def service_name(resource: Resource, variables: Mapping[str, Any]) -> str:
    """A Service's name: the value of its variable (what the config templates use to reach
    it), else the registry's name for it."""
    return str(variables.get(resource.vars["service_name"], resource.name))


def endpoints(catalog: Catalog, registry: Registry,
              variables: Mapping[str, Any]) -> dict[str, list[Endpoint]]:
    """Per service, the Services of its registry `svc` entries, at the (resolved) catalog's
    ports: the healthcheck's when it checks one of them, else the first."""
    found: dict[str, list[Endpoint]] = {}
    for resource in registry.resources:
        if resource.type != "svc":
            continue
        container = find_container(catalog, resource.vars["container"])
        if not container_enabled(variables, container):
            continue  # no Service is made for it (mariadb-proxy is Ansible's)
        healthcheck = container.healthcheck
        port = next(iter(container.ports.values()))
        path = healthcheck.path if healthcheck and healthcheck.type == "http" else None
        if healthcheck and healthcheck.port in container.ports.values():
            port = healthcheck.port
        found.setdefault(resource.service, []).append(
            Endpoint(resource.service, service_name(resource, variables), port, path))
    return found


def find_container(catalog: Catalog, name: str) -> Container:
    for container in catalog.containers():
        if container.name == name:
            return container
    raise PodError(f"no container {name!r} in the catalog; known: "
                   f"{', '.join(c.name for c in catalog.containers())}")


def wait_containers(targets: Iterable[Endpoint], variables: Mapping[str, Any]) -> list[dict]:
    """Init containers that wait for each Service (dependencies as data, as openstack-helm's
    init containers do); plain images, so `podman kube play` runs them too."""
    image = image_reference(variables, "toolbox")
    timeout = str(variables["k8s_dependency_timeout"])
    waits = []
    for target in targets:
        if target.http_path is not None:
            url = f"http://{target.host}:{target.port}{target.http_path}"
            command = ["python3", "-m", "telemetry.bootstrap", "wait-http", "--url", url,
                       "--timeout", timeout]
        else:
            command = ["python3", "-c", _TCP_WAIT, target.host, str(target.port), timeout]
        waits.append({"name": target.wait_name, "image": image,
                      "imagePullPolicy": variables["k8s_image_pull_policy"],
                      "command": command})
    return waits


def dependency_targets(services: Iterable[str],
                       known: Mapping[str, list[Endpoint]]) -> list[Endpoint]:
    return [endpoint for service in services for endpoint in known.get(service, [])]


def probes(container: Container, variables: Mapping[str, Any]) -> dict[str, dict]:
    """Readiness and liveness from the catalog healthcheck, as exec probes running the same
    telemetry_healthcheck command the Ansible engine runs (podman kube play turns an exec
    probe into a healthcheck)."""
    if container.healthcheck is None:
        return {}
    hc = container.healthcheck
    command = healthcheck_command({"type": hc.type, "port": hc.port, "path": hc.path,
                                   "protocol": hc.protocol}, "127.0.0.1")
    common = {"exec": {"command": command}, "periodSeconds": variables["k8s_probe_period"],
              "timeoutSeconds": variables["k8s_probe_timeout"]}
    return {"readinessProbe": {**common,
                               "failureThreshold": variables["k8s_readiness_failure_threshold"]},
            "livenessProbe": {**common,
                              "initialDelaySeconds": variables["k8s_liveness_initial_delay"],
                              "failureThreshold": variables["k8s_liveness_failure_threshold"]}}


def ports(container: Container) -> list[dict[str, Any]]:
    udp = container.healthcheck is not None and container.healthcheck.protocol == "udp"
    result = []
    for name, number in container.ports.items():
        port: dict[str, Any] = {"name": k8s_name(name)[:15], "containerPort": number}
        if udp and container.healthcheck is not None and container.healthcheck.port == number:
            port["protocol"] = "UDP"
        result.append(port)
    return result


def environment(container: Container) -> list[dict[str, str]]:
    env = {"TELEMETRY_CONFIG_STRATEGY": "COPY_ALWAYS", **container.environment}
    return [{"name": key, "value": value} for key, value in env.items()]


@dataclass(frozen=True)
class VolumePlan:
    volumes: list[dict[str, Any]]
    mounts: list[dict[str, Any]]
    persistent: bool


def volumes(container: Container, config_name: str, has_secret: bool,
            variables: Mapping[str, Any], logging_name: str | None = None,
            log_dir: str | None = None) -> VolumePlan:
    """The config mounts of the runtime contract (config.json and sources from the ConfigMap,
    password-bearing sources from the Secret), the catalog's data volumes, and with
    log_to_file the service's log_dir (a service without one writes no log files)."""
    vols: list[dict[str, Any]] = [{"name": "config", "configMap": {"name": config_name}}]
    mounts: list[dict[str, Any]] = [{"name": "config", "mountPath": CONFIG_MOUNT,
                                     "readOnly": True}]
    if has_secret:
        # 0400: telemetry_set_configs runs as root and copies them with the catalog's modes.
        vols.append({"name": "config-secrets",
                     "secret": {"secretName": config_name, "defaultMode": 0o400}})
        mounts.append({"name": "config-secrets", "mountPath": SECRETS_MOUNT, "readOnly": True})
    persistent = False
    claims = variables["k8s_persistent_volumes"]
    for spec in container.volumes:
        name, path, *options = spec.split(":")
        volume_name = k8s_name(name)
        if name in claims:
            persistent = True
            vols.append({"name": volume_name, "persistentVolumeClaim":
                         {"claimName": pvc_name(container.service, name)}})
        else:
            vols.append({"name": volume_name, "emptyDir": {}})
        mount: dict[str, Any] = {"name": volume_name, "mountPath": path}
        if "ro" in options:
            mount["readOnly"] = True
        mounts.append(mount)
    if variables["log_to_file"] and log_dir:
        # Logs in files (log_to_file) go to an emptyDir, with the service's logrotate rule
        # (its logging ConfigMap) beside them for whatever rotates or ships them.
        vols.append({"name": "logs", "emptyDir": {}})
        mounts.append({"name": "logs", "mountPath": log_dir})
        if logging_name:
            vols.append({"name": "logging", "configMap": {"name": logging_name}})
            mounts.append({"name": "logging", "mountPath": "/etc/logrotate.d/telemetry",
                           "readOnly": True})
    return VolumePlan(volumes=vols, mounts=mounts, persistent=persistent)
