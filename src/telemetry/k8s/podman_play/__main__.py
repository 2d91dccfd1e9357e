"""`python -m telemetry.k8s.podman_play up|down [options]`: `telemetry-k8s harness` by another
name, for hosts where the console script is not on PATH."""

from __future__ import annotations

import sys

from telemetry.cli.k8s import main

if __name__ == "__main__":
    sys.exit(main(["harness", *sys.argv[1:]]))
