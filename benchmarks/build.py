#!/usr/bin/env python3
"""Time telemetry-build: cold with --threads 1 vs the default, a no-op rebuild, a one-leaf rebuild.

Run by hand as root on a prepared host (not in CI; a full run takes two cold builds):

    .venv/bin/python benchmarks/build.py                # the default profile
    .venv/bin/python benchmarks/build.py --profile infra --threads 4

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", help="build profile to time")
    parser.add_argument("--threads", type=int, default=4, help="the parallel build's threads")
    parser.add_argument("--leaf", default="nginx", help="leaf image changed for the leaf rebuild")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's images")
    options = parser.parse_args()

    run_id = uuid.uuid4().hex[:6]
    serial_tag, parallel_tag = f"bench-serial-{run_id}", f"bench-parallel-{run_id}"
    selection = ["--profile", options.profile]
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory() as scratch:
        logs = Path(scratch) / "logs"
        override = Path(scratch) / "leaf.j2"
        block = options.leaf.replace("-", "_")
        override.write_text("{% extends parent_template %}\n"
                            f"{{% block {block}_footer %}}RUN echo {run_id} > /etc/bench"
                            "{% endblock %}\n")
        try:
            timings.append(Timing("cold, --threads 1", run_build(
                [*selection, "--tag", serial_tag, "--threads", "1", "--force"], logs)))
            parallel = [*selection, "--tag", parallel_tag, "--threads", str(options.threads)]
            timings.append(Timing(f"cold, --threads {options.threads}",
                                  run_build([*parallel, "--force"], logs)))
            timings.append(Timing("no-op rebuild", run_build(parallel, logs)))
            timings.append(Timing(f"one leaf ({options.leaf}) changed", run_build(
                [*parallel, "--template-override", str(override)], logs)))
        finally:
            if not options.keep:
                remove_tag(serial_tag)
                remove_tag(parallel_tag)

    for timing in timings:
        print(f"{timing.label:<32} {timing.seconds:8.1f} s")
    serial, parallel, noop, leaf = (t.seconds for t in timings)
    print(f"{'parallel speed-up (serial/parallel)':<40} {serial / parallel:6.2f}x")
    print(f"{'no-op rebuild vs cold (cold/no-op)':<40} {parallel / noop:6.1f}x")
    print(f"{'one-leaf rebuild vs cold (cold/leaf)':<40} {parallel / leaf:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
