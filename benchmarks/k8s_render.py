#!/usr/bin/env python3
"""Time telemetry-k8s: load the variables, render every resource of every service (the Ansible
config templates included) and validate each manifest offline against the schemas of three
Kubernetes versions (kubernetes-validate, strict). Target: under 2 s in all.

Run by hand (no cluster, no root; fake passwords are generated in memory):

    .venv/bin/python benchmarks/k8s_render.py [--versions 1.29,1.30,1.31] [--repeat 3]

Each repeat is a cold start of the work in this process (fresh renderer, caches of the
validators kept, as a single CLI run would have them empty: the first repeat is that case).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from telemetry.k8s import operations  # noqa: E402
from telemetry.k8s.validate import validate_all  # noqa: E402

TARGET_SECONDS = 2.0


def fake_passwords() -> dict[str, str]:
    keys = yaml.safe_load((ROOT / "etc" / "telemetry" / "passwords.yml").read_text())
    return {key: "Bench" + hashlib.sha256(key.encode()).hexdigest()[:24] for key in keys}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", default="1.29,1.30,1.31")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    versions = args.versions.split(",")
    worst = 0.0
    for run in range(1, args.repeat + 1):
        started = time.monotonic()
        project = operations.load_project(ROOT, fake_passwords(),
                                          extra={"enable_ceilometer_compute": True})
        loaded = time.monotonic()
        rendered = operations.render_selection(project, "all", ["all"])
        documents = operations.documents(rendered)
        render_done = time.monotonic()
        problems = validate_all(documents, versions)
        finished = time.monotonic()
        total = finished - started
        worst = max(worst, total)
        print(f"run {run}: {len(rendered)} registry resources, {len(documents)} manifests; "
              f"variables {loaded - started:.3f}s, render {render_done - loaded:.3f}s, "
              f"validate x{len(versions)} {finished - render_done:.3f}s, total {total:.3f}s, "
              f"{len(problems)} problem(s)")
        if problems:
            for problem in problems[:20]:
                print(f"  {problem.line()}")
            return 1
    verdict = "within" if worst < TARGET_SECONDS else "OVER"
    print(f"slowest run {worst:.3f}s: {verdict} the {TARGET_SECONDS:g} s target")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
