"""`up` and `down` of the podman kube play harness (a local stand-in for a cluster).

`up` plays the plan in registry order: per service its Jobs one after the other, each to
completion, then its pods, awaited together (readiness probes run with podman exec). A pod whose
hash label matches the plan and that is running (or, for a Job, exited 0) is left alone, so a
second `up` creates nothing. `down` removes every pod, volume and network carrying the harness
label, and the volumes podman made from played ConfigMaps and emptyDirs.
"""

from __future__ import annotations

import io
import re
import socket
import tarfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from telemetry.common.errors import ActionFailed
from telemetry.k8s.podman_play.mapping import (
    CONFIGMAP_PREFIX,
    EMPTYDIR_PREFIX,
    HASH_LABEL,
    LABEL,
    Published,
    SecretVolume,
)
from telemetry.k8s.podman_play.plan import Plan, PodRun
from telemetry.k8s.podman_play.podman import Podman

Progress = Callable[[str], None]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
OSLO_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \d+ [A-Z]+ \S+ (\[[^\]]*\] )?")
POLL = 2.0
# Seconds a container gets to stop: down discards everything (data included), so the
# services need no clean shutdown, and metricd/evaluator would hang 15 s once their peers
# are gone.
STOP_SECONDS = "3"
# Pods removed at once by `down`.
REMOVERS = 8


class HarnessError(ActionFailed):
    """Something did not come up; the message says what, with the logs to read."""


@dataclass
class UpReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (f"harness up: {len(self.created)} created, {len(self.unchanged)} unchanged "
                f"in {self.seconds:.1f}s")


@dataclass
class DownReport:
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return f"harness down: {len(self.removed)} removed in {self.seconds:.1f}s"


def port_free(published: Published) -> bool:
    kind = socket.SOCK_DGRAM if published.protocol == "UDP" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((published.address, published.port))
        except OSError:
            return False
    return True


def last_messages(logs: str, count: int = 3) -> list[str]:
    """The last lines of a log that say something: without colour codes, oslo.log's
    "date time pid LEVEL logger" prefix, and the lines left empty by it (a traceback's)."""
    said = []
    for line in logs.splitlines():
        text = OSLO_PREFIX.sub("", ANSI.sub("", line)).strip()
        if text and not text.startswith("--- logs of"):
            said.append(text)
    return said[-count:]


def secret_tarball(volume: SecretVolume) -> bytes:
    """The volume's files as a tar for `podman volume import`, with their modes (0400)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for item in volume.files:
            info = tarfile.TarInfo(item.path)
            info.size, info.mode, info.mtime = len(item.data), item.mode, int(time.time())
            tar.addfile(info, io.BytesIO(item.data))
    return buffer.getvalue()


class Harness:
    def __init__(self, podman: Podman, progress: Progress, timeout: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.podman = podman
        self.progress = progress
        self.timeout = timeout
        self.clock = clock
        self.start = clock()

    def say(self, line: str) -> None:
        self.progress(f"[{self.clock() - self.start:6.1f}s] {line}")

    # --- up ----------------------------------------------------------------------------------

    def up(self, plan: Plan) -> UpReport:
        report = UpReport()
        self.start = self.clock()
        for note in plan.notes:
            self.progress(f"harness: {note}")
        self._check_images(plan.images)
        self._check_ports(plan)
        self._network(plan, report)
        for claim in plan.claims:
            self._volume(claim, plan.namespace, report)
        for volume in plan.secret_volumes:
            self._secret_volume(volume, plan.namespace, report)
        for group in plan.groups:
            if group.jobs:
                for run in group.runs:
                    self._job(run, plan, report)
            else:
                played = [run for run in group.runs if self._play_pod(run, plan, report)]
                self._await_ready(group.runs, played)
        self._collect_garbage(plan)
        report.seconds = self.clock() - self.start
        return report

    def _check_images(self, images: Sequence[str]) -> None:
        missing = [image for image in images if not self.podman.exists("image", image)]
        if missing:
            raise HarnessError(f"images missing on this host: {', '.join(missing)}; build "
                               "them with telemetry-build")

    def _check_ports(self, plan: Plan) -> None:
        """Fail before anything starts if a published port is taken by something else. Our
        own load balancer pod holds them on a rerun: it is kept, or replaced and the ports
        checked again just before it is played."""
        for run in plan.runs:
            if run.published and not self.podman.exists("pod", run.name):
                taken = [p.label for p in run.published if not port_free(p)]
                if taken:
                    raise HarnessError(
                        f"{', '.join(taken)} already in use on this host: the harness "
                        f"publishes Service {run.published[0].service} there. Is the Ansible "
                        "all-in-one stack running? (telemetry-ansible destroy "
                        "--yes-i-really-really-mean-it removes it)")

    def _network(self, plan: Plan, report: UpReport) -> None:
        if self.podman.exists("network", plan.network):
            report.unchanged.append(f"network/{plan.network}")
            return
        # aardvark-dns answers for the pods' names and aliases on a created network only.
        self.podman.run("network", "create", "--label", f"{LABEL}={plan.namespace}",
                        plan.network)
        report.created.append(f"network/{plan.network}")
        self.say(f"network {plan.network}: created")

    def _volume(self, name: str, namespace: str, report: UpReport) -> bool:
        if self.podman.exists("volume", name):
            report.unchanged.append(f"volume/{name}")
            return False
        self.podman.run("volume", "create", "--label", f"{LABEL}={namespace}", name)
        report.created.append(f"volume/{name}")
        self.say(f"volume {name}: created")
        return True

    def _secret_volume(self, volume: SecretVolume, namespace: str, report: UpReport) -> None:
        if self._volume(volume.name, namespace, report):
            result = self.podman.run("volume", "import", volume.name, "-",
                                     stdin=secret_tarball(volume), check=False)
            if not result.ok:
                # An empty volume of this name would pass for a filled one on the next up.
                self.podman.run("volume", "rm", volume.name, check=False)
                raise HarnessError(f"volume {volume.name}: {result.explain()}")

    def _current(self, run: PodRun) -> bool:
        """The pod exists, was played from the same plan and is still doing its job."""
        pod = self.podman.pod(run.name)
        if pod is None or (pod.get("Labels") or {}).get(HASH_LABEL) != run.spec_hash:
            return False
        states = self.podman.containers(run.containers)
        if len(states) != len(run.containers):
            return False
        if run.is_job:
            return all(s.status == "exited" and s.exit_code == 0 for s in states)
        return all(s.status == "running" for s in states)

    def _play(self, run: PodRun, plan: Plan) -> None:
        if self.podman.exists("pod", run.name):
            self.podman.run("pod", "rm", "--force", "--time", STOP_SECONDS, run.name)
        for published in run.published:
            if not port_free(published):
                raise HarnessError(f"{published.label} is in use: cannot publish "
                                   f"Service {published.service}")
        # kube play runs the init containers (waits for Services) before it returns.
        result = self.podman.run("kube", "play", "--network", run.network_argument(plan.network),
                                 "-", stdin=run.play_text(), check=False,
                                 timeout=self.timeout)
        if not result.ok:
            raise HarnessError(f"{run.label}: podman kube play of pod {run.name} failed: "
                               f"{result.explain()}\n{self._logs(run)}")

    def _job(self, run: PodRun, plan: Plan, report: UpReport) -> None:
        if self._current(run):
            report.unchanged.append(run.label)
            self.say(f"{run.label}: complete (unchanged)")
            return
        started = self.clock()
        for attempt in range(1, run.attempts + 1):
            self.say(f"{run.label}: running pod {run.name}"
                     + (f" (attempt {attempt} of {run.attempts})" if attempt > 1 else ""))
            self._play(run, plan)
            failed = self._wait_job(run)
            if not failed:
                report.created.append(run.label)
                self.say(f"{run.label}: complete in {self.clock() - started:.1f}s")
                return
            if attempt == run.attempts:
                raise HarnessError(f"{run.label} failed {run.attempts} time(s), last: "
                                   f"{failed}\n{self._logs(run)}")
            # The Job controller's backoffLimit: the Jobs are idempotent, a rerun is safe.
            tail = last_messages(self._logs(run))
            self.say(f"{run.label}: {failed}; retrying (last said: {' / '.join(tail)})")

    def _wait_job(self, run: PodRun) -> str:
        """Wait for the Job pod's containers to exit; what failed, or "" when all exited 0."""
        deadline = self.clock() + self.timeout
        while True:
            states = self.podman.containers(run.containers)
            if states and all(s.status in ("exited", "stopped") for s in states):
                break
            if self.clock() > deadline:
                raise HarnessError(f"{run.label}: not complete after {self.timeout:g}s\n"
                                   f"{self._logs(run)}")
            time.sleep(POLL)
        return ", ".join(f"{s.name} exited {s.exit_code}" for s in states if s.exit_code != 0)

    def _play_pod(self, run: PodRun, plan: Plan, report: UpReport) -> bool:
        if self._current(run):
            report.unchanged.append(f"pod/{run.name}")
            return False
        started = self.clock()
        self._play(run, plan)
        report.created.append(f"pod/{run.name}")
        aliases = f" as {', '.join(run.aliases)}" if run.aliases else ""
        published = (f", published on {', '.join(p.label for p in run.published)}"
                     if run.published else "")
        self.say(f"{run.label}: pod {run.name} started{aliases}{published} "
                 f"({self.clock() - started:.1f}s)")
        return True

    def _await_ready(self, runs: Sequence[PodRun], played: Sequence[PodRun]) -> None:
        """Every pod of the group passes its readiness probes (run here: podman runs no
        probe on a timer without systemd)."""
        waiting = {run.name: run for run in runs}
        started = self.clock()
        last: dict[str, str] = {}
        while waiting:
            for name, run in list(waiting.items()):
                states = self.podman.containers(run.containers)
                stopped = [s for s in states if s.status != "running"]
                if stopped or len(states) != len(run.containers):
                    raise HarnessError(f"{run.label}: pod {name} is not running "
                                       f"({', '.join(f'{s.name} {s.status}' for s in stopped)})"
                                       f"\n{self._logs(run)}")
                results = [self.podman.exec_ok(p.container, p.command, timeout=30)
                           for p in run.probes]
                if all(r.ok for r in results):
                    del waiting[name]
                    verb = "ready" if run in played else "ready (unchanged)"
                    self.say(f"{run.label}: pod {name} {verb}")
                else:
                    last[name] = "; ".join(r.explain() for r in results if not r.ok)
            if not waiting:
                break
            if self.clock() - started > self.timeout:
                details = "\n".join(f"{name}: last probe: {last.get(name, '')}\n"
                                    f"{self._logs(run)}" for name, run in waiting.items())
                raise HarnessError(f"not ready after {self.timeout:g}s: "
                                   f"{', '.join(waiting)}\n{details}")
            time.sleep(POLL)

    def _logs(self, run: PodRun) -> str:
        """The last lines of each container of the pod, init containers first."""
        spec = run.document["spec"]
        names = [f"{run.name}-{c['name']}" for c in spec.get("initContainers", [])]
        names += list(run.containers)
        parts = []
        for name in names:
            text = self.podman.logs(name)
            if text:
                parts.append(f"--- logs of {name} (last 40 lines)\n{text}")
        return "\n".join(parts) or "(no container logs)"

    def _collect_garbage(self, plan: Plan) -> None:
        """Volumes of ConfigMaps and Secrets whose content changed are no longer used."""
        wanted = plan.volume_names()
        stale = [name for name in self._harness_volumes()
                 if name not in wanted and not name.startswith(EMPTYDIR_PREFIX)]
        for name in stale:
            if self.podman.run("volume", "rm", name, check=False).ok:
                self.say(f"volume {name}: removed (no longer used)")

    def _harness_volumes(self) -> list[str]:
        labelled = self.podman.names("volume", f"label={LABEL}")
        played = [name for name in self.podman.names("volume")
                  if name.startswith((CONFIGMAP_PREFIX, EMPTYDIR_PREFIX))]
        return sorted({*labelled, *played})

    def _remove_pod(self, name: str) -> None:
        self.podman.run("pod", "rm", "--force", "--time", STOP_SECONDS, name, check=False)

    # --- down --------------------------------------------------------------------------------

    def down(self) -> DownReport:
        report = DownReport()
        self.start = self.clock()
        pods = self.podman.names("pod", f"label={LABEL}")
        if pods:
            self.say(f"removing {len(pods)} pod(s): {', '.join(sorted(pods))}")
            # One `podman pod rm` per pod, several at once: a single call with every pod
            # removes them one after the other (about 2 s each). A pod caught restarting
            # (OnFailure) can refuse once ("container state improper"): leftovers get a retry.
            for _ in range(2):
                with ThreadPoolExecutor(max_workers=REMOVERS) as pool:
                    list(pool.map(self._remove_pod, self.podman.names("pod", f"label={LABEL}")))
            left = self.podman.names("pod", f"label={LABEL}")
            if left:
                raise HarnessError(f"pods not removed: {', '.join(left)}")
            report.removed += [f"pod/{name}" for name in pods]
            self.say(f"{len(pods)} pod(s) removed")
        failed = []
        for name in self._harness_volumes():
            result = self.podman.run("volume", "rm", "--force", name, check=False)
            if result.ok:
                report.removed.append(f"volume/{name}")
                self.say(f"volume {name}: removed")
            else:
                failed.append(f"volume {name}: {result.explain()}")
        for name in self.podman.names("network", f"label={LABEL}"):
            result = self.podman.run("network", "rm", name, check=False)
            if result.ok:
                report.removed.append(f"network/{name}")
                self.say(f"network {name}: removed")
            else:
                failed.append(f"network {name}: {result.explain()}")
        report.seconds = self.clock() - self.start
        if failed:
            raise HarnessError("not removed: " + "; ".join(failed))
        return report
