"""`telemetry_redis_start hand-over`, what the deploy runs in the redis master's container before
it recreates it: in a real Sentinel cluster of the real redis image (three redis and three
sentinels on loopback addresses, as the deploy runs them: config.json, the image's entrypoint),
the master's role passes to a replica while a client keeps writing, and no write the cluster
acknowledged is missing afterwards."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import docker
import pytest

from tests.conftest import IMAGE_TAG
from tests.functional.conftest import build, wait_until

NODES = ("127.0.0.31", "127.0.0.32", "127.0.0.33")
REDIS_PORT = 16379
SENTINEL_PORT = 26399
PASSWORD = "hand-over-test-password"
MASTER_NAME = "telemetry"
START = "/usr/local/bin/telemetry_redis_start"


class RedisError(Exception):
    """An error reply (-ERR, -READONLY, ...)."""


def redis(address: str, port: int, *command: str, timeout: float = 5.0) -> object:
    """One command on a fresh connection, logged in: the reply (str, int, list or None)."""
    with socket.create_connection((address, port), timeout=timeout) as connection:
        replies: BinaryIO = connection.makefile("rb")
        for args in (("AUTH", PASSWORD), command):
            connection.sendall(_encode(args))
            reply = _read(replies)
        return reply


def _encode(args: tuple[str, ...]) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read(replies: BinaryIO) -> object:
    line = replies.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RedisError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        return None if rest == "-1" else replies.read(int(rest) + 2)[:-2].decode()
    if kind == b"*":
        return None if rest == "-1" else [_read(replies) for _ in range(int(rest))]
    raise RedisError(f"unexpected reply {line!r}")


def sentinel_master(sentinel: str) -> str | None:
    answer = redis(sentinel, SENTINEL_PORT, "SENTINEL", "get-master-addr-by-name", MASTER_NAME)
    return answer[0] if isinstance(answer, list) else None


def replication(node: str) -> dict[str, str]:
    text = str(redis(node, REDIS_PORT, "INFO", "replication"))
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def node_config(directory: Path, node: str) -> Path:
    """What the deploy mounts at /var/lib/telemetry/config_files for both containers of a node
    (a shortened redis.conf and sentinel.conf of roles/redis/templates). On loopback every
    connection leaves from 127.0.0.1, so each node announces its own address, which a host's
    one address makes unneeded in a deployment."""
    directory.mkdir()
    (directory / "redis.conf").write_text(
        f"bind {node}\nport {REDIS_PORT}\nprotected-mode yes\nrequirepass {PASSWORD}\n"
        f"masterauth {PASSWORD}\nreplica-announce-ip {node}\ndaemonize no\nlogfile \"\"\n"
        "dir /var/lib/redis\nappendonly yes\nappendfsync everysec\n")
    (directory / "sentinel.conf").write_text(
        f"bind {node}\nport {SENTINEL_PORT}\ndaemonize no\nlogfile \"\"\ndir /tmp\n"
        f"requirepass {PASSWORD}\nsentinel sentinel-pass {PASSWORD}\n"
        f"sentinel announce-ip {node}\n"
        f"sentinel monitor {MASTER_NAME} {NODES[0]} {REDIS_PORT} 2\n"
        f"sentinel auth-pass {MASTER_NAME} {PASSWORD}\n"
        f"sentinel down-after-milliseconds {MASTER_NAME} 5000\n"
        f"sentinel failover-timeout {MASTER_NAME} 60000\n")
    sentinels = " ".join(f"{other}:{SENTINEL_PORT}" for other in NODES)
    (directory / "redis-replication.env").write_text(
        f"self={node}\nredis_port={REDIS_PORT}\nmaster_name={MASTER_NAME}\n"
        f"initial_master={NODES[0]}\nquorum=2\nsentinels=\"{sentinels}\"\n")
    for mode, main_file in (("server", "redis.conf"), ("sentinel", "sentinel.conf")):
        files = [{"source": f"/var/lib/telemetry/config_files/{name}",
                  "dest": f"/etc/redis/{name}", "owner": "redis", "perm": "0600"}
                 for name in (main_file, "redis-replication.env")]
        (directory / f"config-{mode}.json").write_text(json.dumps(
            {"command": f"{START} {mode}", "user": "redis", "config_files": files}))
    return directory


@dataclass
class Cluster:
    engine: docker.DockerClient
    image: str
    config_root: Path
    containers: dict[str, docker.models.containers.Container] = field(default_factory=dict)

    def start(self, mode: str, node: str) -> None:
        config = self.config_root / node
        name = f"test-hand-over-{mode}-{node.rsplit('.', 1)[1]}"
        self.containers[name] = self.engine.containers.run(
            self.image, name=name, detach=True, network_mode="host",
            volumes={str(config / f"config-{mode}.json"): {
                         "bind": "/var/lib/telemetry/config_files/config.json", "mode": "ro"},
                     **{str(config / name): {"bind": f"/var/lib/telemetry/config_files/{name}",
                                             "mode": "ro"}
                        for name in ("redis.conf", "sentinel.conf", "redis-replication.env")}})

    def server(self, node: str) -> docker.models.containers.Container:
        return self.containers[f"test-hand-over-server-{node.rsplit('.', 1)[1]}"]

    def hand_over(self, node: str, wait: int = 60) -> tuple[int, str]:
        code, output = self.server(node).exec_run(
            [START, "hand-over"], user="redis",
            environment={"TELEMETRY_REDIS_HAND_OVER_WAIT": str(wait)})
        return code, output.decode()


@pytest.fixture()
def cluster(tmp_path: Path, engine: docker.DockerClient) -> Iterator[Cluster]:
    code, summary, output = build(tmp_path / "build", "^redis$")
    assert code == 0 and summary["failed"] == [], output
    running = Cluster(engine, f"telemetry/redis:{IMAGE_TAG}", tmp_path / "nodes")
    running.config_root.mkdir()
    for node in NODES:
        node_config(running.config_root / node, node)
    try:
        for node in NODES:
            running.start("server", node)
        for node in NODES:
            running.start("sentinel", node)
        # Each sentinel knows the two replicas and the two other sentinels: it can fail over.
        for node in NODES:
            wait_until(f"sentinel {node} knows the cluster", lambda node=node: _knows_all(node),
                       ignoring=(OSError, RedisError))
        yield running
    finally:
        for container in running.containers.values():
            container.remove(force=True)


def _knows_all(sentinel: str) -> bool:
    fields = redis(sentinel, SENTINEL_PORT, "SENTINEL", "master", MASTER_NAME)
    state = dict(zip(fields[::2], fields[1::2], strict=True))
    return state["num-slaves"] == "2" and state["num-other-sentinels"] == "2"


class Writer:
    """Appends 0, 1, 2, ... to a list on the master the sentinels name, as gnocchi writes
    through its Sentinel URL: an error or a timeout asks the sentinels again, and the value
    counts as written only once the master acknowledged it."""

    def __init__(self) -> None:
        self.acknowledged: list[int] = []
        self.refused = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        value = 0
        master = sentinel_master(NODES[1])
        while not self.stopping.is_set():
            try:
                redis(master, REDIS_PORT, "RPUSH", "written", str(value))
                self.acknowledged.append(value)
            except (OSError, RedisError):
                self.refused += 1
                time.sleep(0.1)
                master = sentinel_master(NODES[1]) or master
            value += 1


def test_the_master_hands_over_to_a_replica_losing_no_acknowledged_write(
        cluster: Cluster) -> None:
    assert {sentinel_master(node) for node in NODES} == {NODES[0]}
    writer = Writer()
    writing = threading.Thread(target=writer.run)
    writing.start()
    masters = [NODES[0]]
    try:
        wait_until("writes acknowledged", lambda: len(writer.acknowledged) > 50)
        # Twice: the second master's config file is the one Redis rewrote when the sentinels
        # promoted it (quoted values), as after any failover in a deployment.
        for _ in range(2):
            old_master = masters[-1]
            code, output = cluster.hand_over(old_master)
            assert code == 0, output
            new_master = sentinel_master(NODES[1])
            assert new_master in NODES and new_master != old_master, (new_master, output)
            assert f"handed the master over to {new_master}" in output, output
            masters.append(new_master)
            assert {sentinel_master(node) for node in NODES} == {new_master}
            # The old master follows the new one.
            wait_until("the old master replicates the new one",
                       lambda old=old_master, new=new_master: _follows(old, new),
                       ignoring=(OSError, RedisError))
            handed_at = len(writer.acknowledged)
            wait_until("writes acknowledged by the new master",
                       lambda at=handed_at: len(writer.acknowledged) > at + 50)
    finally:
        writer.stopping.set()
        writing.join()
    # Every acknowledged value is on the last master.
    stored = {int(value)
              for value in redis(masters[-1], REDIS_PORT, "LRANGE", "written", "0", "-1")}
    missing = set(writer.acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged writes lost: {sorted(missing)[:10]}"


def _follows(replica: str, master: str) -> bool:
    info = replication(replica)
    return (info["role"], info["master_host"], info["master_link_status"]) == (
        "slave", master, "up")


def test_a_replica_has_nothing_to_hand_over_and_a_lone_master_refuses(cluster: Cluster) -> None:
    code, output = cluster.hand_over(NODES[1])
    assert (code, "not the master: nothing to hand over" in output) == (0, True), output
    assert replication(NODES[1])["role"] == "slave"
    for replica in NODES[1:]:
        cluster.server(replica).stop(timeout=5)
    code, output = cluster.hand_over(NODES[0], wait=3)
    assert code == 75, output
    assert "cannot hand the master over: no replica connected" in output
    assert "start the redis containers of the other redis hosts" in output
    # Still the master, and taking writes: nothing was left paused.
    assert replication(NODES[0])["role"] == "master"
    assert redis(NODES[0], REDIS_PORT, "SET", "still-writable", "yes", timeout=2) == "OK"
