#!/usr/bin/env bash
# Prepare this host for telemetry-deploy: packages, podman's containers.conf, the venv.
# Idempotent: each step checks before it changes anything. Run as root on Debian 12 or 13.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${TELEMETRY_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
# catatonit: podman builds the pause image of its pods from it (the kube play harness).
HOST_PACKAGES=(podman buildah runc netavark aardvark-dns debootstrap iptables uidmap
               snmpd snmp docker-registry catatonit)

log() { printf '[setup-host] %s\n' "$*"; }

install_packages() {
    local missing=()
    for pkg in "${HOST_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        log "host packages present"
        return
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts these as system services; the tests run their own instances on loopback.
    for unit in snmpd docker-registry; do
        systemctl disable --now "$unit" >/dev/null 2>&1 || service "$unit" stop >/dev/null 2>&1 || true
    done
}

write_containers_conf() {
    # crun refuses this host's hybrid cgroups; root lacks CAP_SYS_RESOURCE for podman's default
    # nofile limit; there is no systemd journal. See the README's "Host requirements".
    local wanted=/etc/containers/containers.conf
    local content
    content=$(cat "$ROOT/tools/containers.conf")
    if [[ -f $wanted ]] && [[ "$(cat "$wanted")" == "$content" ]]; then
        log "containers.conf up to date"
        return
    fi
    mkdir -p /etc/containers
    [[ -f $wanted ]] && cp "$wanted" "$wanted.telemetry-backup"
    printf '%s\n' "$content" > "$wanted"
    log "wrote $wanted"
}

make_venv() {
    local stamp="$VENV/.telemetry-installed"
    local want
    want=$(cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml" "$ROOT/requirements-test.txt" | sha256sum | cut -d' ' -f1)
    if [[ -f $stamp ]] && [[ "$(cat "$stamp")" == "$want" ]]; then
        log "venv $VENV up to date"
        return
    fi
    [[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
    log "installing the project and its test tools into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r "$ROOT/requirements-test.txt" -e "$ROOT"
    printf '%s\n' "$want" > "$stamp"
}

install_packages
write_containers_conf
make_venv
log "done"
