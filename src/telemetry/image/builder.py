"""Build the rendered images in parallel, parents first, skipping what is already there."""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import docker
import docker.errors

from telemetry.common.engine import local_name
from telemetry.common.errors import ActionFailed
from telemetry.image.render import HASH_LABEL, ImageNames, RenderedImage
from telemetry.image.report import DONE_OK, ImageResult, Progress, State
from telemetry.image.rootfs import RootfsSpec, debootstrap_tarball


class BuildFailed(ActionFailed):
    """The engine reported an error building an image."""


@dataclass(frozen=True)
class BuildSettings:
    names: ImageNames
    work_dir: Path
    logs_dir: Path
    threads: int
    retries: int
    force: bool
    push: bool
    rootfs: RootfsSpec
    insecure_registry: bool = False
    # Rebuilt without the layer cache even when their content hash is present (--refresh:
    # images with pending package updates, and their children).
    force_images: frozenset[str] = frozenset()

    def forced(self, name: str) -> bool:
        return self.force or name in self.force_images


def rootfs_reference(names: ImageNames, spec: RootfsSpec) -> str:
    return f"{names.namespace}/base-rootfs:{spec.content_hash}"


@dataclass
class Existing:
    image_id: str
    references: set[str]


class ExistingImages:
    """content hash -> a local image with it, read once from the engine.

    Untagged images count: a build that moved the tag away leaves the old image behind, and
    going back to the old content re-tags it instead of rebuilding it.
    """

    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client
        self._by_hash: dict[str, Existing] | None = None
        self._lock = threading.RLock()

    def _index(self) -> dict[str, Existing]:
        """Listed on first need only: podman takes seconds to list hundreds of images."""
        with self._lock:
            if self._by_hash is None:
                self._by_hash = self._list()
            return self._by_hash

    def _list(self) -> dict[str, Existing]:
        by_hash: dict[str, Existing] = {}
        for summary in self._client.api.images(all=True,
                                                         filters={"label": HASH_LABEL}):
            digest = (summary.get("Labels") or {}).get(HASH_LABEL)
            if digest:
                found = by_hash.setdefault(digest, Existing(summary["Id"], set()))
                found.references.update(local_name(t) for t in summary.get("RepoTags") or []
                                        if t != "<none>:<none>")
        return by_hash

    def find(self, content_hash: str) -> Existing | None:
        with self._lock:
            found = self._index().get(content_hash)
            return Existing(found.image_id, set(found.references)) if found else None

    def add(self, content_hash: str, image_id: str, reference: str) -> None:
        with self._lock:
            if self._by_hash is not None:
                found = self._by_hash.setdefault(content_hash, Existing(image_id, set()))
                found.references.add(reference)


class Builder:
    def __init__(self, client: docker.DockerClient,
                 rendered: dict[str, RenderedImage], settings: BuildSettings,
                 progress: Progress) -> None:
        # One client for every thread: its connection pool is thread-safe.
        self.client = client
        self.rendered = rendered
        self.settings = settings
        self.progress = progress
        self.results = {
            name: ImageResult(name=name, reference=settings.names.reference(name),
                              content_hash=image.content_hash,
                              log=str(settings.logs_dir / f"{name}.log"))
            for name, image in rendered.items()
        }
        self.existing = ExistingImages(client)

    def run(self) -> list[ImageResult]:
        kids: dict[str, list[str]] = {name: [] for name in self.rendered}
        roots = []
        for name, image in self.rendered.items():
            if image.parent in self.rendered:
                kids[image.parent].append(name)
            else:
                roots.append(name)
        with ThreadPoolExecutor(max_workers=self.settings.threads) as pool:
            running: dict[Future, str] = {pool.submit(self._build_one, n): n for n in roots}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    if self.results[name].state in DONE_OK:
                        # Bigger subtrees first: they unlock the most work for idle threads.
                        ready = sorted(kids[name], key=lambda k: -_subtree_size(k, kids))
                        running.update({pool.submit(self._build_one, k): k for k in ready})
                    else:
                        self._mark_parent_failed(name, kids)
        return list(self.results.values())

    def _mark_parent_failed(self, name: str, kids: dict[str, list[str]]) -> None:
        for kid in kids[name]:
            self.progress.update(self.results[kid], State.PARENT_FAILED, f"{name} failed")
            self._mark_parent_failed(kid, kids)

    def _build_one(self, name: str) -> None:
        result = self.results[name]
        started = time.monotonic()
        try:
            self._build_or_skip(name, result)
            if self.settings.push:
                self._push(result)
        except Exception as exc:
            with Path(result.log).open("a") as log:
                log.write(f"\nFAILED: {exc}\n")
            self.progress.update(result, State.FAILED, _first_line(exc))
        finally:
            result.seconds = time.monotonic() - started

    def _build_or_skip(self, name: str, result: ImageResult) -> None:
        image = self.rendered[name]
        reference = result.reference
        forced = self.settings.forced(name)
        if not forced and self._tagged_hash(reference) == image.content_hash:
            self.progress.update(result, State.SKIPPED, f"hash {image.content_hash} present")
            return
        present = None if forced else self.existing.find(image.content_hash)
        if present:
            self.client.images.get(present.image_id).tag(*reference.rsplit(":", 1))
            self.existing.add(image.content_hash, present.image_id, reference)
            self.progress.update(result, State.SKIPPED,
                                 f"hash {image.content_hash} present, re-tagged")
            return
        self.progress.update(result, State.BUILDING)
        build_started = time.monotonic()
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                self._build(image, reference, Path(result.log), attempt, forced)
                break
            except BuildFailed:
                if attempt == attempts:
                    raise
        built_id = self.client.images.get(reference).id
        self.existing.add(image.content_hash, built_id, reference)
        self.progress.update(result, State.BUILT,
                             f"in {time.monotonic() - build_started:.1f}s")

    def _tagged_hash(self, reference: str) -> str | None:
        """The content hash of the image the reference points at now (one inspect)."""
        try:
            attrs = self.client.api.inspect_image(reference)
        except docker.errors.ImageNotFound:
            return None
        return ((attrs.get("Config") or {}).get("Labels") or {}).get(HASH_LABEL)

    def _build(self, image: RenderedImage, reference: str, log_path: Path, attempt: int,
               forced: bool) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        mode = "w" if attempt == 1 else "a"
        with log_path.open(mode) as log:
            log.write(f"=== {image.name} -> {reference} (attempt {attempt}, "
                      f"hash {image.content_hash})\n")
            if image.parent is None:
                self._ensure_rootfs(log, log_path)
            context = image.write_context(self.settings.work_dir)
            self._stream_build(context, reference, log, forced)

    def _stream_build(self, context: Path, reference: str, log: TextIO, forced: bool) -> None:
        # A forced build is a real rebuild: the layer cache would hand back the same layers.
        stream = self.client.api.build(path=str(context), tag=reference, rm=True, forcerm=True,
                                          pull=False, decode=True, nocache=forced)
        for chunk in stream:
            if "stream" in chunk:
                log.write(chunk["stream"])
            if "error" in chunk:
                log.write(f"ERROR: {chunk['error']}\n")
                raise BuildFailed(chunk["error"].strip())
        log.flush()
        try:
            self.client.images.get(reference)
        except docker.errors.ImageNotFound as exc:
            raise BuildFailed(f"the engine reported success but {reference} is missing") from exc

    def _ensure_rootfs(self, log: TextIO, log_path: Path) -> None:
        reference = rootfs_reference(self.settings.names, self.settings.rootfs)
        try:
            self.client.images.get(reference)
            log.write(f"root filesystem {reference} present\n")
            return
        except docker.errors.ImageNotFound:
            pass
        log.write(f"debootstrapping {self.settings.rootfs} into {reference}\n")
        log.flush()
        context = self.settings.work_dir / "base-rootfs"
        context.mkdir(parents=True, exist_ok=True)
        tarball = debootstrap_tarball(self.settings.rootfs, context, log_path)
        (context / "Dockerfile").write_text(f"FROM scratch\nADD {tarball.name} /\n"
                                            f'CMD ["/bin/bash"]\n')
        try:
            self._stream_build(context, reference, log, forced=False)
        finally:
            tarball.unlink(missing_ok=True)

    def _push(self, result: ImageResult) -> None:
        repository, tag = result.reference.rsplit(":", 1)
        with Path(result.log).open("a") as log:
            log.write(f"pushing {result.reference}\n")
            for chunk in self._push_stream(repository, tag):
                if "error" in chunk:
                    raise BuildFailed(f"push of {result.reference} failed: {chunk['error']}")
                log.write(f"{chunk.get('status', '')} {chunk.get('progress', '')}\n")
        result.detail = f"{result.detail}; pushed".lstrip("; ")


    def _push_stream(self, repository: str, tag: str):
        """The push API call, with podman's tlsVerify for plain-HTTP registries.

        docker-py's push() cannot pass tlsVerify; Docker ignores the parameter and already
        treats loopback registries as insecure, podman honours it.
        """
        api = self.client.api
        params = {"tag": tag}
        if self.settings.insecure_registry:
            params["tlsVerify"] = "false"
        response = api._post(api._url("/images/{0}/push", repository), params=params,
                             headers={"X-Registry-Auth": "e30="}, stream=True)
        api._raise_for_status(response)
        return api._stream_helper(response, decode=True)


def _subtree_size(name: str, kids: dict[str, list[str]]) -> int:
    return 1 + sum(_subtree_size(kid, kids) for kid in kids[name])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
