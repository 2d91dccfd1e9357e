#!/usr/bin/env python3
"""Time telemetry-build per base release: a cold build and a no-op rebuild of each, then a
one-leaf rebuild (and, with --serial, a cold --threads 1 build) of the first.

Run by hand as root on a prepared host (not in CI; a full run takes one cold build a release):

    .venv/bin/python benchmarks/build.py                # every release, the default profile
    .venv/bin/python benchmarks/build.py --releases trixie --profile infra --serial

Cold builds use --force (which also turns off the engine's layer cache) under tags of their own,
so the images already built are left alone; the root filesystem from debootstrap is reused (it
takes 30-70 s more on a fresh host). The benchmark's tags are removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: float


def run_build(args: list[str], logs: Path) -> float:
    command = [sys.executable, "-m", "telemetry.cli.build", "--logs-dir", str(logs), *args]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"build failed ({' '.join(args)}):\n{result.stdout[-3000:]}{result.stderr}")
    return elapsed


def remove_tag(tag: str) -> None:
    listing = subprocess.run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                             capture_output=True, text=True, check=True).stdout.split()
    ours = [ref for ref in listing if ref.endswith(f":{tag}")]
    if ours:
        subprocess.run(["podman", "rmi", "-f", *ours], capture_output=True, check=False)


def release_names() -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from telemetry.catalog import load_catalog

    return list(load_catalog().releases)


def leaf_override(scratch: Path, leaf: str, run_id: str) -> Path:
    override = scratch / "leaf.j2"
    override.write_text("{% extends parent_template %}\n"
                        f"{{% block {leaf.replace('-', '_')}_footer %}}RUN echo {run_id} > "
                        "/etc/bench{% endblock %}\n")
    return override


def time_release(release: str, options: argparse.Namespace, tags: list[str],
                 logs: Path) -> list[Timing]:
    tag = f"bench-{release}-{uuid.uuid4().hex[:6]}"
    tags.append(tag)
    build = ["--profile", options.profile, "--base-release", release, "--tag", tag,
             "--threads", str(options.threads)]
    return [Timing(f"{release}: cold, --threads {options.threads}",
                   run_build([*build, "--force"], logs)),
            Timing(f"{release}: no-op rebuild", run_build(build, logs))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", nargs="+", default=release_names(),
                        help="base releases to time (default: every release of the catalog)")
    parser.add_argument("--profile", default="default", help="build profile to time")
    parser.add_argument("--threads", type=int, default=4, help="the parallel build's threads")
    parser.add_argument("--leaf", default="nginx", help="leaf image changed for the leaf rebuild")
    parser.add_argument("--serial", action="store_true",
                        help="also time a cold --threads 1 build of the first release")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's images")
    options = parser.parse_args()

    timings: list[Timing] = []
    tags: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        logs = Path(scratch) / "logs"
        first = options.releases[0]
        try:
            for release in options.releases:
                timings += time_release(release, options, tags, logs)
            first_build = ["--profile", options.profile, "--base-release", first,
                           "--tag", tags[0], "--threads", str(options.threads)]
            override = leaf_override(Path(scratch), options.leaf, tags[0])
            timings.append(Timing(f"{first}: one leaf ({options.leaf}) changed", run_build(
                [*first_build, "--template-override", str(override)], logs)))
            if options.serial:
                tags.append(f"{tags[0]}-serial")
                serial = ["--profile", options.profile, "--base-release", first,
                          "--tag", tags[-1], "--threads", "1", "--force"]
                timings.append(Timing(f"{first}: cold, --threads 1", run_build(serial, logs)))
        finally:
            if not options.keep:
                for tag in tags:
                    remove_tag(tag)

    for timing in timings:
        print(f"{timing.label:<40} {timing.seconds:8.1f} s")
    by_label = {t.label: t.seconds for t in timings}
    for release in options.releases:
        cold = by_label[f"{release}: cold, --threads {options.threads}"]
        print(f"{release + ': no-op rebuild vs cold (cold/no-op)':<48} "
              f"{cold / by_label[f'{release}: no-op rebuild']:6.1f}x")
    cold_first = by_label[f"{first}: cold, --threads {options.threads}"]
    print(f"{first + ': one-leaf rebuild vs cold (cold/leaf)':<48} "
          f"{cold_first / by_label[f'{first}: one leaf ({options.leaf}) changed']:6.1f}x")
    if options.serial:
        print(f"{first + ': parallel speed-up (serial/parallel)':<48} "
              f"{by_label[f'{first}: cold, --threads 1'] / cold_first:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
