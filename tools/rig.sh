#!/usr/bin/env bash
# The multinode rig: test hosts on this one machine that Ansible reaches over SSH as it would
# real hosts, each with its own address, container engine and storage, plus a registry.
#
#   tools/rig.sh up       create (or start) one test host per host of the rig inventory
#                         (ansible/inventory/rig, at its ansible_host) and the registry, and
#                         write the rig's config dir (globals.yml, passwords.yml)
#   tools/rig.sh down     remove the test hosts, the registry, their storage and the network
#   tools/rig.sh status   each test host: state, address, sshd and engine answering
#   tools/rig.sh reboot HOST   restart one test host as a reboot would (its engine starts
#                              again, and with it every container of restart policy
#                              always/unless-stopped)
#
# Then, as on real hosts (the README's "Multinode" section):
#   telemetry-build --registry 10.213.0.2:5000 --push --insecure-registry
#   telemetry-ansible -i ansible/inventory/rig --configdir /var/lib/telemetry-rig/config pull
#   telemetry-ansible -i ansible/inventory/rig --configdir /var/lib/telemetry-rig/config deploy
#
# Each test host is a privileged container of a Debian 13 image with podman, sshd, python3 and
# the docker SDK (tools/rig/Containerfile), its /var/lib/containers on a volume of its own.
# This is how Molecule's container drivers make test hosts. Needs root, podman (tools/setup-host.sh)
# and the trixie base image (telemetry-build --base-release trixie).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
INVENTORY=${RIG_INVENTORY:-$ROOT/ansible/inventory/rig}
STATE=${RIG_STATE:-/var/lib/telemetry-rig}
NETWORK=telemetry-rig
SUBNET=10.213.0.0/24
REGISTRY_ADDRESS=10.213.0.2
REGISTRY=$REGISTRY_ADDRESS:5000
IMAGE=localhost/telemetry-rig/host:latest
BASE_IMAGE=${RIG_BASE_IMAGE:-docker.io/telemetry/base:2025.1}
PREFIX=rig-
export PATH="$ROOT/.venv/bin:$PATH"

started=$SECONDS
log() { printf '[rig %4ds] %s\n' "$((SECONDS - started))" "$*"; }
die() { printf 'rig: %s\n' "$*" >&2; exit 2; }

# "name address" for each host of the inventory.
inventory_hosts() {
    ansible-inventory -i "$INVENTORY" --list 2>/dev/null | python3 -c '
import json, sys
hostvars = json.load(sys.stdin)["_meta"]["hostvars"]
for name, values in sorted(hostvars.items()):
    if "ansible_host" not in values:
        sys.exit(f"inventory host {name} has no ansible_host: the rig gives each host that address")
    print(name, values["ansible_host"])'
}

build_image() {
    podman image exists "$BASE_IMAGE" \
        || die "$BASE_IMAGE is missing: build it first (telemetry-build --base-release trixie)"
    local context
    context=$(mktemp -d)
    cp "$ROOT"/tools/rig/* "$ROOT/tools/containers.conf" "$context/"
    # The image is rebuilt only when its inputs change (podman's layer cache).
    log "test-host image $IMAGE"
    podman build -q --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" \
        "$context" > /dev/null
    rm -rf "$context"
}

ensure_key() {
    mkdir -p "$STATE" && chmod 0700 "$STATE"
    [[ -f $STATE/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C telemetry-rig -f "$STATE/id_ed25519"
}

ensure_network() {
    podman network exists "$NETWORK" || podman network create --subnet "$SUBNET" "$NETWORK" > /dev/null
}

# run NAME ADDRESS ROLE: create the container, or start it if it exists.
run_host() {
    local name=$1 address=$2 role=$3
    if podman container exists "$PREFIX$name"; then
        podman start "$PREFIX$name" > /dev/null
        log "$name ($address): started"
        return
    fi
    podman run -d --name "$PREFIX$name" --hostname "$name" --privileged --init \
        --network "$NETWORK" --ip "$address" \
        --tmpfs /run --tmpfs /tmp \
        --ulimit nofile=16384:16384 --ulimit nproc=16384:16384 \
        -v "$PREFIX$name-containers:/var/lib/containers" \
        -v "$PREFIX$name-telemetry:/etc/telemetry" \
        -e RIG_ROLE="$role" -e RIG_REGISTRY="$REGISTRY" \
        -e RIG_AUTHORIZED_KEY="$(cat "$STATE/id_ed25519.pub")" \
        --label telemetry.rig=host "$IMAGE" > /dev/null
    log "$name ($address): created"
}

# answers ADDRESS: its sshd lets the rig's key in and its engine's socket is there.
answers() {
    ssh -n -q -i "$STATE/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o ConnectTimeout=2 "root@$1" \
        'test -S /run/podman/podman.sock' 2> /dev/null
}

wait_ssh() {
    local name=$1 address=$2
    for _ in $(seq 60); do
        if answers "$address"; then
            log "$name ($address): sshd and engine answer"
            return
        fi
        sleep 1
    done
    die "$name ($address): no sshd or engine after 60 s: podman logs $PREFIX$name"
}

write_config() {
    local config=$STATE/config
    mkdir -p "$config" && chmod 0700 "$config"
    cat > "$config/globals.yml" <<YAML
# Written by tools/rig.sh: what the rig's hosts differ in from an all-in-one host.
# Images come from the rig's registry (telemetry-ansible pull).
telemetry_registry: "$REGISTRY"
# ceilometer-central polls every host's snmpd from the agents host.
snmp_source_network: "$SUBNET"
# gnocchi runs on several hosts: its aggregates cannot live on one host's disk.
gnocchi_storage_driver: redis
YAML
    [[ -f $config/passwords.yml ]] || install -m 0600 "$ROOT/etc/telemetry/passwords.yml" "$config/passwords.yml"
    telemetry-genpwd -p "$config/passwords.yml" > /dev/null
    log "config dir $config (globals.yml, passwords.yml)"
}

up() {
    [[ $EUID -eq 0 ]] || die "run as root (the test hosts are privileged containers)"
    local hosts
    hosts=$(inventory_hosts) || die "cannot read the inventory $INVENTORY"
    build_image
    ensure_key
    ensure_network
    run_host registry "$REGISTRY_ADDRESS" registry
    while read -r name address; do run_host "$name" "$address" host; done <<< "$hosts"
    while read -r name address; do wait_ssh "$name" "$address"; done <<< "$hosts"
    write_config
    log "up: $(wc -l <<< "$hosts") test hosts, registry $REGISTRY; inventory $INVENTORY"
}

down() {
    local names
    names=$(podman ps -a --filter label=telemetry.rig=host --format '{{.Names}}')
    for name in $names; do
        podman rm -f -t 5 "$name" > /dev/null
        podman volume rm -f "$name-containers" "$name-telemetry" > /dev/null 2>&1 || true
        log "${name#"$PREFIX"}: removed with its storage"
    done
    podman network exists "$NETWORK" && podman network rm "$NETWORK" > /dev/null
    rm -rf "$STATE/config"
    log "down"
}

status() {
    local failed=0
    while read -r name address; do
        local state
        state=$(podman inspect -f '{{.State.Status}}' "$PREFIX$name" 2> /dev/null || echo absent)
        local answers=no
        if [[ $state == running ]] && answers "$address"; then
            answers=yes
        fi
        [[ $answers == yes ]] || failed=1
        printf '%-10s %-13s %-8s sshd+engine: %s\n' "$name" "$address" "$state" "$answers"
    done <<< "$(inventory_hosts)"
    return $failed
}

reboot_host() {
    local name=${1:?usage: tools/rig.sh reboot HOST}
    podman container exists "$PREFIX$name" || die "no test host $name: tools/rig.sh status lists them"
    podman restart -t 5 "$PREFIX$name" > /dev/null
    local address
    address=$(inventory_hosts | awk -v n="$name" '$1 == n {print $2}')
    wait_ssh "$name" "$address"
}

case ${1:-} in
    up) up ;;
    down) down ;;
    status) status ;;
    reboot) reboot_host "${2:-}" ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
