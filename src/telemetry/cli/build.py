"""telemetry-build: build the telemetry stack's container images, like kolla-build.

Exit codes: 0 every selected image built or skipped; 1 some image failed (the summary names its
log); 2 bad input (unknown image/profile, template error, bad option), nothing built; 3 the
container engine cannot be reached.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker
from oslo_config import cfg

from telemetry.catalog import RELEASE_LABEL, Release, load_catalog
from telemetry.common.engine import connect
from telemetry.common.errors import BadInput, run_cli
from telemetry.image import options
from telemetry.image.builder import Builder, BuildSettings, rootfs_reference
from telemetry.image.packages import (
    ImageUpdates,
    check_images,
    installed_packages,
    with_descendants,
)
from telemetry.image.render import ImageNames, RenderedImage, Renderer
from telemetry.image.report import Progress, State, summary_table, write_summary_json
from telemetry.image.rootfs import VARIANT, RootfsSpec, host_mirrors
from telemetry.image.tree import dependency_tree, select_images
from telemetry.paths import project_root

PROG = "telemetry-build"
CONFIG_FILE = Path("/etc/telemetry/telemetry-build.conf")
USAGE = """telemetry-build [options] [REGEX ...]

Build the telemetry stack's images with podman (or Docker) from kolla_images/*/Dockerfile.j2.
Images whose content hash is already present are skipped, so a rerun is quick.

examples:
  telemetry-build                      build the default profile
  telemetry-build --list-images        show what would be built, with content hashes
  telemetry-build gnocchi              gnocchi-base, gnocchi-api, gnocchi-metricd and ancestors
  telemetry-build -p infra --threads 2
  telemetry-build --template-only --work-dir /tmp/rendered
  telemetry-build --base-release trixie  OpenStack 2025.1 on Debian 13, tagged 2025.1
  telemetry-build --check-updates      which built images have package updates waiting
  telemetry-build --refresh            rebuild those images and their children
  telemetry-build --list-images --packages   every built image's installed packages
"""


def parse_args(argv: list[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    options.register(conf)
    config_files = [str(CONFIG_FILE)] if CONFIG_FILE.exists() else []
    try:
        conf(argv, project="telemetry", prog=PROG, usage=USAGE,
             default_config_files=config_files)
    except cfg.Error as exc:
        raise BadInput(str(exc)) from exc
    return conf


@dataclass(frozen=True)
class Selection:
    """The images asked for, rendered, with the names and base they are built with."""

    rendered: dict[str, RenderedImage]
    names: ImageNames
    rootfs: RootfsSpec
    release: Release


def render_selection(conf: cfg.ConfigOpts) -> Selection:
    catalog = load_catalog()
    release = catalog.release(conf.base_release)
    selected = select_images(catalog, conf.regex, conf.profile)
    mirrors = host_mirrors(conf.debian_mirror, conf.debian_security_mirror)
    rootfs = RootfsSpec(suite=release.name, variant=VARIANT, mirror=mirrors.debian)
    tag = conf.tag or release.tag
    names = ImageNames(namespace=conf.namespace, tag=tag, registry=conf.registry)
    override = Path(conf.template_override) if conf.template_override else None
    if override and not override.is_file():
        raise BadInput(f"--template-override {override}: no such file")
    # base_release is in base's Dockerfile, so it is in every image's content hash.
    variables = {"namespace": conf.namespace, "tag": tag, "base_release": release.name,
                 "openstack_release": release.openstack, "release_label": RELEASE_LABEL,
                 "debian_mirror": mirrors.debian, "debian_security_mirror": mirrors.security,
                 "rootfs_image": rootfs_reference(names, rootfs)}
    renderer = Renderer(catalog, project_root(), names, variables, override)
    root = next(n for n in selected if catalog.images[n].parent is None)
    rendered = renderer.render_all(selected, {root: rootfs.content_hash})
    return Selection(rendered=rendered, names=names, rootfs=rootfs, release=release)


def list_images(rendered: dict[str, RenderedImage], names: ImageNames, release: Release) -> None:
    print(f"{'image':<26} {'parent':<18} {'content hash':<26} {'reference':<40} release")
    for image in rendered.values():
        print(f"{image.name:<26} {image.parent or '-':<18} {image.content_hash:<26} "
              f"{names.reference(image.name):<40} {release.name} ({release.openstack})")


def print_packages(client: docker.DockerClient, selection: Selection) -> None:
    for name in selection.rendered:
        reference = selection.names.reference(name)
        packages = installed_packages(client, reference)
        print(f"\n{reference}: {len(packages)} packages")
        for package in packages:
            print(f"  {package.name:<40} {package.version}")


def check_updates(conf: cfg.ConfigOpts, client: docker.DockerClient,
                  selection: Selection) -> list[ImageUpdates]:
    references = {name: selection.names.reference(name) for name in selection.rendered}
    print(f"checking {len(references)} images for pending package updates "
          f"({conf.threads} at a time)")

    def report(result: ImageUpdates, elapsed: float) -> None:
        verdict = (f"{len(result.updates)} pending ({result.security_count} security)"
                   if result.updates else "up to date")
        print(f"[{elapsed:7.1f}s] {result.image:<26} {verdict}", flush=True)

    results = check_images(client, references, conf.threads, report)
    for result in results:
        for update in result.updates:
            mark = "  SECURITY" if update.security else ""
            print(f"  {result.image:<26} {update.package:<32} {update.installed} -> "
                  f"{update.candidate}{mark}")
    stale = [r.image for r in results if r.updates]
    print(f"{len(stale)} of {len(results)} images have pending updates"
          + (f": {', '.join(stale)}" if stale else ""))
    return results


def refresh_set(results: list[ImageUpdates], selection: Selection) -> frozenset[str]:
    """The stale images and their children among those selected."""
    parents = {name: image.parent for name, image in selection.rendered.items()}
    stale = [r.image for r in results if r.updates]
    return frozenset(with_descendants(stale, parents) & set(selection.rendered))


def template_only(rendered: dict[str, RenderedImage], work_dir: Path) -> None:
    for image in rendered.values():
        print(image.write_context(work_dir))


def insecure_registry(conf: cfg.ConfigOpts) -> bool:
    host = (conf.registry or "").rsplit(":", 1)[0]
    return conf.insecure_registry or host in ("localhost", "[::1]") or host.startswith("127.")


def build(conf: cfg.ConfigOpts, client: docker.DockerClient, selection: Selection,
          force_images: frozenset[str] = frozenset()) -> int:
    rendered, names, rootfs = selection.rendered, selection.names, selection.rootfs
    logs_dir = Path(conf.logs_dir).resolve()
    logs_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(conf.work_dir or tempfile.mkdtemp(prefix="telemetry-build-"))
    settings = BuildSettings(names=names, work_dir=work_dir, logs_dir=logs_dir,
                             threads=conf.threads, retries=conf.retries, force=conf.force,
                             push=conf.push, rootfs=rootfs,
                             insecure_registry=insecure_registry(conf),
                             force_images=force_images)
    progress = Progress()
    print(f"building {len(rendered)} images with {conf.threads} threads; logs in {logs_dir}")
    started = time.monotonic()
    try:
        builder = Builder(client, rendered, settings, progress)
        results = builder.run()
    finally:
        if not conf.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    total = time.monotonic() - started
    print(summary_table(results, total))
    if conf.summary_json_file:
        write_summary_json(Path(conf.summary_json_file), results, total)
    return 0 if all(r.state in (State.BUILT, State.SKIPPED) for r in results) else 1


def run(argv: list[str]) -> int:
    conf = parse_args(argv)
    selection = render_selection(conf)
    if conf.list_images and not conf.packages:
        list_images(selection.rendered, selection.names, selection.release)
        return 0
    if conf.list_dependencies:
        print(json.dumps(dependency_tree(load_catalog(), selection.rendered), indent=2))
        return 0
    if conf.template_only:
        if not conf.work_dir:
            raise BadInput("--template-only needs --work-dir DIR to render into")
        template_only(selection.rendered, Path(conf.work_dir))
        return 0
    if conf.push and not conf.registry:
        raise BadInput("--push needs --registry HOST:PORT to push to")
    # Connecting first: an unreachable engine fails before logs or work dirs appear.
    client = connect(conf.engine_url, conf.timeout)
    if conf.list_images:
        list_images(selection.rendered, selection.names, selection.release)
        print_packages(client, selection)
        return 0
    if conf.check_updates:
        check_updates(conf, client, selection)
        return 0
    force_images: frozenset[str] = frozenset()
    if conf.refresh:
        force_images = refresh_set(check_updates(conf, client, selection), selection)
        print(f"refresh: rebuilding {', '.join(sorted(force_images)) or 'nothing'}")
    return build(conf, client, selection, force_images)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return run_cli(PROG, lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
