"""telemetry_redis_start (src/telemetry/runtime/redis_start), the redis and redis-sentinel
containers' command: which role a starting node takes. Runs the real script with stand-ins for
redis-cli (answers per sentinel address, from files) and redis-server (records its arguments)
on PATH, since neither runs here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "src" / "telemetry" / "runtime" / "redis_start"
SELF, OTHER, THIRD = "192.0.2.51", "192.0.2.52", "192.0.2.53"
SENTINEL_CONF = ("port 26379\nrequirepass s3cret\n"
                 "sentinel monitor telemetry 192.0.2.51 6379 2\n"
                 "sentinel auth-pass telemetry s3cret\n")

STAND_IN_CLI = """#!/bin/sh
# redis-cli stand-in: prints answers/HOST if it exists (a sentinel that answers), else fails
# (refused). Records that it was given the password in the environment only.
while [ $# -gt 0 ]; do case "$1" in -h) host=$2; shift 2 ;; *) shift ;; esac; done
echo "$REDISCLI_AUTH" > "$STAND_IN/password-seen"
[ -f "$STAND_IN/answers/$host" ] && cat "$STAND_IN/answers/$host" && exit 0
exit 1
"""
STAND_IN_SERVER = """#!/bin/sh
echo "$@" > "$STAND_IN/redis-server-args"
"""


def replication_env(self_address: str = SELF, sentinels: bool = True) -> str:
    if not sentinels:
        return 'sentinels=""\n'
    return (f"self={self_address}\nredis_port=6379\nmaster_name=telemetry\n"
            f"initial_master={SELF}\nquorum=2\n"
            f'sentinels="{SELF}:26379 {OTHER}:26379 {THIRD}:26379"\n')


def start(tmp_path: Path, mode: str, env_text: str,
          answers: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "etc"
    bin_dir = tmp_path / "bin"
    (tmp_path / "answers").mkdir(exist_ok=True)
    for directory in (config, bin_dir):
        directory.mkdir(exist_ok=True)
    (config / "redis-replication.env").write_text(env_text)
    (config / "redis.conf").write_text("port 6379\nrequirepass s3cret\n")
    (config / "sentinel.conf").write_text(SENTINEL_CONF)
    for name, text in (("redis-cli", STAND_IN_CLI), ("redis-server", STAND_IN_SERVER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    for host, answer in (answers or {}).items():
        (tmp_path / "answers" / host).write_text(answer)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STAND_IN": str(tmp_path),
           "TELEMETRY_REDIS_CONFIG_DIR": str(config)}
    return subprocess.run(["sh", str(SCRIPT), mode], env=env, capture_output=True, text=True,
                          check=False)


def server_args(tmp_path: Path) -> str:
    return (tmp_path / "redis-server-args").read_text().strip()


def test_one_redis_host_starts_the_one_master(tmp_path: Path) -> None:
    assert start(tmp_path, "server", replication_env(sentinels=False)).returncode == 0
    assert server_args(tmp_path) == f"{tmp_path}/etc/redis.conf"


def test_a_new_cluster_starts_on_the_first_host_the_others_replicate_it(
        tmp_path: Path) -> None:
    start(tmp_path, "server", replication_env())
    assert server_args(tmp_path) == f"{tmp_path}/etc/redis.conf"
    start(tmp_path, "server", replication_env(OTHER))
    assert server_args(tmp_path) == f"{tmp_path}/etc/redis.conf --replicaof {SELF} 6379"


def test_an_old_master_comes_back_as_a_replica_of_the_one_the_sentinels_name(
        tmp_path: Path) -> None:
    result = start(tmp_path, "server", replication_env(),
                   answers={THIRD: f"{OTHER}\n6379\n"})
    assert result.returncode == 0, result.stderr
    assert server_args(tmp_path) == f"{tmp_path}/etc/redis.conf --replicaof {OTHER} 6379"
    assert f"the master is {OTHER}" in result.stdout
    # The password went through the environment, never the command line.
    assert (tmp_path / "password-seen").read_text().strip() == "s3cret"


def test_its_own_sentinel_is_not_asked_and_errors_are_not_addresses(tmp_path: Path) -> None:
    start(tmp_path, "server", replication_env(OTHER),
          answers={OTHER: f"{OTHER}\n6379\n", THIRD: "NOAUTH Authentication required.\n"})
    assert server_args(tmp_path) == f"{tmp_path}/etc/redis.conf --replicaof {SELF} 6379"


def test_the_node_the_sentinels_name_starts_as_master(tmp_path: Path) -> None:
    start(tmp_path, "server", replication_env(OTHER), answers={SELF: f"{OTHER}\n6379\n"})
    assert server_args(tmp_path) == f"{tmp_path}/etc/redis.conf"


def test_a_sentinel_watches_the_current_master(tmp_path: Path) -> None:
    start(tmp_path, "sentinel", replication_env(), answers={OTHER: f"{THIRD}\n6379\n"})
    assert server_args(tmp_path) == f"{tmp_path}/etc/sentinel.conf --sentinel"
    conf = (tmp_path / "etc" / "sentinel.conf").read_text().splitlines()
    assert f"sentinel monitor telemetry {THIRD} 6379 2" in conf
    assert "sentinel auth-pass telemetry s3cret" in conf


@pytest.mark.parametrize(("mode", "env_text", "code"), [
    ("primary", replication_env(), 64), ("sentinel", replication_env(sentinels=False), 78)])
def test_a_wrong_mode_or_a_sentinel_without_sentinels_is_refused(
        tmp_path: Path, mode: str, env_text: str, code: int) -> None:
    result = start(tmp_path, mode, env_text)
    assert result.returncode == code and "telemetry_redis_start:" in result.stderr
    assert not (tmp_path / "redis-server-args").exists()
