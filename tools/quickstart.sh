#!/usr/bin/env bash
# The README's first command: prepare the host, then build every image of the default profile.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/tools/setup-host.sh"
cd "$ROOT"
.venv/bin/telemetry-build --summary-json-file build-logs/summary.json "$@"
