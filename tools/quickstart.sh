#!/usr/bin/env bash
# The README's first command: prepare the host, build every image, generate passwords (only the
# empty ones), deploy the all-in-one stack and print how to reach it. Idempotent.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIGDIR=${TELEMETRY_CONFIGDIR:-/etc/telemetry}
bash "$ROOT/tools/setup-host.sh"
cd "$ROOT"
mkdir -p build-logs
.venv/bin/telemetry-build --summary-json-file build-logs/summary.json
mkdir -p "$CONFIGDIR"
[[ -f $CONFIGDIR/passwords.yml ]] || install -m 0600 etc/telemetry/passwords.yml "$CONFIGDIR/passwords.yml"
[[ -f $CONFIGDIR/globals.yml ]] || install -m 0600 etc/telemetry/globals.yml "$CONFIGDIR/globals.yml"
.venv/bin/telemetry-genpwd -p "$CONFIGDIR/passwords.yml"
.venv/bin/telemetry-ansible prechecks --configdir "$CONFIGDIR"
.venv/bin/telemetry-ansible deploy --configdir "$CONFIGDIR"
.venv/bin/telemetry-ansible check
cat <<TXT

The telemetry stack is up, behind nginx on this host:
  keystone  http://127.0.0.1:15000/v3
  gnocchi   http://127.0.0.1:18041
  aodh      http://127.0.0.1:18042
Credentials for the admin user: source $CONFIGDIR/admin-openrc.sh, or export
OS_CLOUD=telemetry-admin with $CONFIGDIR/clouds.yaml (both mode 0600).
TXT
