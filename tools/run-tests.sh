#!/usr/bin/env bash
# The README's second command (and CI's): prepare the host, lint, run every test (the functional
# ones build every image with podman and start containers from them), then the Molecule
# scenarios: `default` deploys the all-in-one stack from scratch, reruns it (idempotence) and
# verifies it with testinfra; `upgrade` removes it, deploys Zed, writes data, upgrades to 2025.1
# (twice: the second changes nothing) and reads the data back; `multinode` deploys over SSH on
# the rig's test hosts (tools/rig.sh) and injects failures there; `kubernetes` removes that stack, runs the rendered Kubernetes
# resources on the podman kube play harness (a local stand-in for a cluster) and verifies the
# same APIs through its load balancer.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/tools/setup-host.sh"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
echo "== ruff"
ruff check src tests benchmarks ansible
echo "== ansible-lint (production profile; .ansible-lint lists any skip with its reason)"
ansible-lint
echo "== pytest"
pytest -ra --durations=15 "$@"
echo "== molecule test (ansible/molecule/default)"
started=$SECONDS
(cd ansible && molecule test)
echo "== molecule test passed in $((SECONDS - started))s"
echo "== molecule test -s upgrade (ansible/molecule/upgrade)"
started=$SECONDS
(cd ansible && molecule test -s upgrade)
echo "== molecule test -s upgrade passed in $((SECONDS - started))s"
echo "== molecule test -s multinode (ansible/molecule/multinode)"
started=$SECONDS
(cd ansible && molecule test -s multinode)
echo "== molecule test -s multinode passed in $((SECONDS - started))s"
echo "== molecule test -s kubernetes (ansible/molecule/kubernetes)"
started=$SECONDS
(cd ansible && molecule test -s kubernetes)
echo "== molecule test -s kubernetes passed in $((SECONDS - started))s"
