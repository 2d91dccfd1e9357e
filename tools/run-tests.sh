#!/usr/bin/env bash
# The README's second command (and CI's): prepare the host, lint, then run every test, including
# the functional ones that build every image with podman and start containers from them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/tools/setup-host.sh"
cd "$ROOT"
echo "== ruff"
.venv/bin/ruff check src tests benchmarks ansible
echo "== pytest"
.venv/bin/pytest -ra "$@"
