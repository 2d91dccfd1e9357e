"""Rendered Kubernetes resources -> the podman objects that stand in for them (pure).

Each Job's pod template and each Deployment/DaemonSet replica becomes one `kind: Pod` document
played with `podman kube play`, with its ConfigMaps in the same file. What podman 4.3.1 cannot
do as a cluster does is mapped (here and in .mapping), and the plan's notes list each mapping:

- Services -> DNS aliases of the pods they select, on one podman network (aardvark-dns).
  An alias cannot remap a port, so a Service whose port differs from its target is refused.
- Secrets -> named volumes filled by the harness with the decoded files. podman 4.3.1 does read
  `kind: Secret`, but its secret volumes hold the base64 text undecoded, ignore defaultMode and
  crash (nil `optional`) unless `optional` is set, so they cannot carry config files.
- ConfigMaps, Secrets, claims and emptyDirs get harness names: podman 4.3.1 makes a named volume
  of the ConfigMap's (or emptyDir's) own name, never refreshes an existing one, and shares it with
  any other pod or container using that name (the Ansible stack has volumes called mariadb,
  redis...). ConfigMap and Secret volume names carry a hash of their content, so a change makes a
  new volume instead of reusing a stale one.
- restartPolicy Always -> OnFailure: podman 4.3.1 applies the pod's policy to init containers
  too, restarts a finished one and then fails to remove it. Jobs run with Never: the harness
  replays a failed Job's pod up to backoffLimit times, as the Job controller would.
- Liveness probes are left out (podman makes them systemd-timer healthchecks; there is no
  systemd here); the harness runs the readiness probes itself with podman exec.
- Annotations longer than 63 characters (the config hash) are left out: podman 4.3.1 refuses
  them. The harness's own hash label covers what they said.
- hostNetwork is turned off and container ports are dropped (podman 4.3.1 binds each
  containerPort on the host even without a hostPort), so nothing clashes with what runs on the
  host; only the published Service's ports are bound (hostPort/hostIP on its pod).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from telemetry.k8s.podman_play.mapping import (
    DEFAULT_BACKOFF,
    DEFAULT_MODE,
    HASH_LABEL,
    KIND_LABEL,
    LABEL,
    MAX_ANNOTATION,
    WORKLOAD_KINDS,
    PlanError,
    Probe,
    Published,
    SecretVolume,
    check_service_ports,
    claim_volume,
    configmap_volume,
    network_name,
    pod_name,
    pod_spec,
    readiness,
    secret_volume,
    selects,
    short_hash,
)
from telemetry.k8s.render import Rendered


@dataclass(frozen=True)
class PodRun:
    """One pod to play: a Job's pod or one replica of a Deployment or DaemonSet."""

    kind: str                 # the Kubernetes kind it stands for
    workload: str             # that resource's name
    service: str              # the registry service
    name: str                 # the podman pod
    aliases: tuple[str, ...]  # the Services it answers for (DNS aliases)
    document: dict[str, Any]  # the kind: Pod document played
    config_maps: tuple[dict[str, Any], ...]
    containers: tuple[str, ...]   # podman names of its (non-init) containers
    probes: tuple[Probe, ...]     # readiness probes, run with podman exec
    published: tuple[Published, ...]
    spec_hash: str
    attempts: int = 1         # a Job's: 1 + its backoffLimit

    @property
    def is_job(self) -> bool:
        return self.kind == "Job"

    @property
    def label(self) -> str:
        return f"{self.kind.lower()}/{self.workload}"

    def play_text(self) -> str:
        """The file given to `podman kube play`: the ConfigMaps, then the Pod."""
        return yaml.safe_dump_all([*self.config_maps, self.document], sort_keys=False)

    def network_argument(self, network: str) -> str:
        """`--network` of `podman kube play`: the network, with the Service names as aliases."""
        options = ",".join(f"alias={alias}" for alias in self.aliases)
        return f"{network}:{options}" if options else network


@dataclass(frozen=True)
class Group:
    """Consecutive runs of one service and phase: Jobs (run one after the other) or pods
    (played, then awaited together)."""

    service: str
    jobs: bool
    runs: tuple[PodRun, ...]


@dataclass(frozen=True)
class Plan:
    namespace: str
    network: str
    groups: tuple[Group, ...]
    claims: tuple[str, ...]
    secret_volumes: tuple[SecretVolume, ...]
    images: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def runs(self) -> list[PodRun]:
        return [run for group in self.groups for run in group.runs]

    @property
    def published(self) -> list[Published]:
        return [p for run in self.runs for p in run.published]

    def volume_names(self) -> set[str]:
        """Every volume the plan's pods use that the harness or podman names."""
        names = set(self.claims) | {v.name for v in self.secret_volumes}
        for run in self.runs:
            names.update(cm["metadata"]["name"] for cm in run.config_maps)
            for volume in run.document["spec"].get("volumes", []):
                if "emptyDir" in volume:
                    names.add(volume["name"])
        return names


@dataclass
class _Inputs:
    """Every rendered document, by kind and name."""

    configmaps: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: list[dict[str, Any]] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)


def _inputs(rendered: Iterable[Rendered]) -> _Inputs:
    found = _Inputs()
    for item in rendered:
        for document in item.documents:
            kind, name = document["kind"], document["metadata"]["name"]
            if kind == "ConfigMap":
                found.configmaps[name] = document
            elif kind == "Secret":
                found.secrets[name] = document
            elif kind == "Service":
                found.services.append(document)
            elif kind == "PersistentVolumeClaim":
                found.claims.append(claim_volume(name))
    return found


class _Builder:
    def __init__(self, rendered: Sequence[Rendered], namespace: str, publish_service: str,
                 publish_address: str) -> None:
        self.namespace = namespace
        self.inputs = _inputs(rendered)
        self.rendered = rendered
        self.publish_service = publish_service
        self.publish_address = publish_address
        self.secret_volumes: dict[tuple[str, int], SecretVolume] = {}
        self.notes: list[str] = []
        self.selected: set[str] = set()

    def build(self) -> Plan:
        groups: list[Group] = []
        for item in self.rendered:
            for document in item.documents:
                if document["kind"] == "Job":
                    runs = [self._run(item.resource.service, document, None)]
                elif document["kind"] in WORKLOAD_KINDS:
                    runs = self._workload(item.resource.service, document)
                else:
                    continue
                jobs = document["kind"] == "Job"
                if groups and groups[-1].service == item.resource.service and \
                        groups[-1].jobs == jobs:
                    groups[-1] = Group(groups[-1].service, jobs, (*groups[-1].runs, *runs))
                else:
                    groups.append(Group(item.resource.service, jobs, tuple(runs)))
        self._check_published(groups)
        for service in self.inputs.services:
            if service["metadata"]["name"] not in self.selected:
                self.notes.append(f"Service {service['metadata']['name']} selects no pod")
        images = sorted({c["image"] for g in groups for r in g.runs
                         for key in ("initContainers", "containers")
                         for c in r.document["spec"].get(key, [])})
        return Plan(namespace=self.namespace, network=network_name(self.namespace),
                    groups=tuple(groups), claims=tuple(self.inputs.claims),
                    secret_volumes=tuple(self.secret_volumes.values()),
                    images=tuple(images), notes=tuple(self.notes))

    def _workload(self, service: str, document: dict[str, Any]) -> list[PodRun]:
        name, kind = document["metadata"]["name"], document["kind"]
        spec = document["spec"]["template"]["spec"]
        replicas = int(document["spec"].get("replicas", 1)) if kind == "Deployment" else 1
        if kind == "DaemonSet":
            self.notes.append(f"DaemonSet {name}: one pod (one node)"
                              + (", hostNetwork off" if spec.get("hostNetwork") else ""))
        elif replicas != 1:
            self.notes.append(f"Deployment {name}: {replicas} replicas as {replicas} pods on "
                              "this host, behind one DNS alias")
        return [self._run(service, document, index) for index in range(replicas)]

    def _run(self, service: str, document: dict[str, Any], index: int | None) -> PodRun:
        kind, workload = document["kind"], document["metadata"]["name"]
        template = document["spec"]["template"]
        labels = dict(template.get("metadata", {}).get("labels", {}))
        job = kind == "Job"
        pod = pod_name(workload, None if job else index)
        aliases = tuple(self._aliases(labels, template["spec"])) if not job else ()
        # Two pods cannot bind one host port: only the first replica is published.
        publish = self._published(aliases) if index == 0 else []
        configmaps = self._configmaps(pod, template["spec"])
        spec = pod_spec(template["spec"], pod, job,
                        {name: cm["metadata"]["name"] for name, cm in configmaps.items()},
                        self._secrets(pod, template["spec"]), publish)
        annotations = dict(template.get("metadata", {}).get("annotations", {}))
        metadata: dict[str, Any] = {"name": pod, "labels": {**labels, LABEL: self.namespace,
                                                            KIND_LABEL: kind}}
        document_out = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
        played = tuple(configmaps.values())
        digest = short_hash({"pod": document_out, "annotations": annotations,
                             "configmaps": played}, 16)
        metadata["labels"][HASH_LABEL] = digest
        # podman 4.3.1 refuses annotation values over 63 characters (a label's limit, not an
        # annotation's): the 64-hex config hash goes, the harness hash above covers it.
        kept = {key: value for key, value in annotations.items()
                if len(str(value)) <= MAX_ANNOTATION}
        if kept:
            metadata["annotations"] = kept
        return PodRun(kind=kind, workload=workload, service=service, name=pod, aliases=aliases,
                      document=document_out, config_maps=played,
                      containers=tuple(f"{pod}-{c['name']}" for c in spec["containers"]),
                      probes=readiness(pod, spec), published=tuple(publish), spec_hash=digest,
                      attempts=1 + int(document["spec"].get("backoffLimit", DEFAULT_BACKOFF))
                      if job else 1)

    def _aliases(self, labels: Mapping[str, str], spec: Mapping[str, Any]) -> list[str]:
        aliases = []
        for service in self.inputs.services:
            if selects(service["spec"].get("selector") or {}, labels):
                check_service_ports(service, spec)
                aliases.append(service["metadata"]["name"])
                self.selected.add(service["metadata"]["name"])
        return aliases

    def _published(self, aliases: Sequence[str]) -> list[Published]:
        if self.publish_service not in aliases:
            return []
        service = next(s for s in self.inputs.services
                       if s["metadata"]["name"] == self.publish_service)
        return [Published(self.publish_service, self.publish_address, port["port"],
                          port.get("protocol", "TCP")) for port in service["spec"]["ports"]]

    def _configmaps(self, pod: str, spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        found = {}
        for volume in spec.get("volumes", []):
            if "configMap" not in volume:
                continue
            name = volume["configMap"]["name"]
            if name not in self.inputs.configmaps:
                raise PlanError(f"pod {pod}: ConfigMap {name} is not among the rendered "
                                "resources")
            source = self.inputs.configmaps[name]
            data = source.get("data") or {}
            found[name] = {"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": configmap_volume(name, data)}, "data": data}
        return found

    def _secrets(self, pod: str, spec: Mapping[str, Any]) -> dict[tuple[str, int], SecretVolume]:
        found = {}
        for volume in spec.get("volumes", []):
            if "secret" not in volume:
                continue
            name = volume["secret"]["secretName"]
            mode = volume["secret"].get("defaultMode", DEFAULT_MODE)
            if name not in self.inputs.secrets:
                raise PlanError(f"pod {pod}: Secret {name} is not among the rendered resources")
            if (name, mode) not in self.secret_volumes:
                self.secret_volumes[(name, mode)] = secret_volume(self.inputs.secrets[name], mode)
            found[(name, mode)] = self.secret_volumes[(name, mode)]
        return found

    def _check_published(self, groups: Sequence[Group]) -> None:
        if not any(run.published for group in groups for run in group.runs):
            raise PlanError(f"no pod answers for Service {self.publish_service}, the one to "
                            "publish on the host")


def build_plan(rendered: Sequence[Rendered], namespace: str, publish_service: str,
               publish_address: str = "127.0.0.1") -> Plan:
    """What to run for these rendered resources (registry order), publishing the ports of
    publish_service on publish_address."""
    builder = _Builder(rendered, namespace, publish_service, publish_address)
    plan = builder.build()
    general = (
        "not a cluster: no API server, scheduler or kube-proxy; podman kube play runs the pods",
        "Jobs: run by the harness, one pod each to completion, replayed up to backoffLimit "
        "times on failure",
        f"Services: DNS aliases of the pods they select on podman network {plan.network}",
        "Secrets: volumes filled by the harness; ConfigMaps: played with each pod",
        "restartPolicy Always -> OnFailure (podman 4.3.1 would restart finished init containers)",
        "probes: readiness run by the harness with podman exec; liveness left out (no systemd)",
        f"published: Service {publish_service} on "
        + ", ".join(p.label for p in plan.published),
    )
    return dataclasses.replace(plan, notes=(*general, *plan.notes))
