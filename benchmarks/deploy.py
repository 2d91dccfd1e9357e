#!/usr/bin/env python3
"""Time telemetry-ansible: a cold all-in-one deploy (images present), the no-change rerun and a
one-option reconfigure; print the times and ratios.

Run by hand as root on a prepared host with the images built (not in CI). It DESTROYS the
telemetry stack on this host first (containers and volumes), so the cold deploy starts from
nothing:

    .venv/bin/python benchmarks/deploy.py [--configdir /etc/telemetry]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(*args: str) -> float:
    command = [sys.executable, "-m", "telemetry.cli.ansible", *args]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr}")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configdir", default="/etc/telemetry")
    options = parser.parse_args()
    config = ["--configdir", options.configdir]
    timed("destroy", "--yes-i-really-really-mean-it", "--include-volumes")
    cold = timed("deploy", *config)
    rerun = timed("deploy", *config)
    reconfigure = timed("reconfigure", *config, "--tags", "gnocchi",
                        "-e", "gnocchi_api_processes=3")
    print(f"{'cold deploy (images present)':<34} {cold:7.1f} s")
    print(f"{'no-change rerun':<34} {rerun:7.1f} s")
    print(f"{'one-option reconfigure (gnocchi)':<34} {reconfigure:7.1f} s")
    print(f"{'cold / rerun':<34} {cold / rerun:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
