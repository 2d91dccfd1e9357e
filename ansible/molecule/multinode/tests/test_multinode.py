"""Molecule verify of the rig, from outside it: the APIs through the LB host, every host's snmpd
feeding gnocchi, the Galera and RabbitMQ clusters, and ingest that loses nothing while an API
backend, then its whole host, is stopped and killed, while the database writer crashes, and
while a --serial reconfigure restarts one host at a time; last, every Galera node is killed
and telemetry-ansible mariadb-recovery brings the cluster back with its data.

The failures are real: `podman kill`/`stop` of gnocchi-api inside api02 (over SSH, with its
own engine), then of the test host api02 itself (every container of it at once, as a power
cut), which then boots again: its rabbitmq and Galera nodes rejoin their clusters on their own.
memcached and redis still live on api01 alone (no Sentinel yet), so api01 as a whole is not
lost here; its mariadb is.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from ingest_load import Ingest, create_policy, ingest_running
from stack_api import AODH, GNOCCHI, KEYSTONE, issue_token, request, wait_for

ROOT = Path(__file__).resolve().parents[4]
CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
INVENTORY = ROOT / "ansible" / "inventory" / "rig"
RIG_KEY = "/var/lib/telemetry-rig/id_ed25519"
# The rig inventory's hosts and addresses.
HOSTS = {"lb01": "10.213.0.10", "api01": "10.213.0.11", "api02": "10.213.0.12",
         "agents01": "10.213.0.13"}
API_HOSTS = ("api01", "api02")


def on_host(host: str, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A command on a test host, over SSH as Ansible reaches it."""
    result = subprocess.run(
        ["ssh", "-n", "-i", RIG_KEY, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
         f"root@{HOSTS[host]}", command], capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, f"{host}: {command}: {result.stderr}"
    return result


def rig(*args: str) -> None:
    subprocess.run(["bash", str(ROOT / "tools" / "rig.sh"), *args], check=True)


def wait_container_healthy(host: str, name: str, timeout: float = 180) -> None:
    wait_for(f"{name} on {host} healthy", lambda: on_host(
        host, f"podman healthcheck run {name}", check=False).returncode == 0, timeout=timeout)


@pytest.fixture(scope="module")
def token() -> str:
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    return issue_token("admin", passwords["keystone_admin_password"], "admin")


@pytest.fixture()
def running_ingest(token: str) -> Iterator[tuple[Ingest, list[Future[None]]]]:
    with ingest_running(token, create_policy(token)) as running:
        yield running


def test_the_apis_answer_through_the_lb_host(token: str) -> None:
    assert request(f"{KEYSTONE}/projects", token)[0] == 200
    assert request(f"{GNOCCHI}/resource/generic", token)[0] == 200
    assert request(f"{AODH}/alarms", token)[0] == 200
    status, _, endpoints = request(f"{KEYSTONE}/endpoints?interface=public", token)
    assert status == 200
    assert {e["url"].split("/")[2].split(":")[0] for e in endpoints["endpoints"]} == {
        HOSTS["lb01"]}, "public endpoints name the LB host"


def test_each_api_host_serves_its_own_backends() -> None:
    for host in API_HOSTS:
        names = on_host(host, "podman ps --format '{{.Names}}'").stdout.split()
        assert {"gnocchi-api", "aodh-api"} <= set(names), host
    api02 = on_host("api02", "podman ps --format '{{.Names}}'").stdout.split()
    assert {"keystone", "mariadb"} <= set(api02) and "redis" not in api02
    agents = on_host("agents01", "podman ps --format '{{.Names}}'").stdout.split()
    assert {"gnocchi-metricd", "aodh-evaluator", "ceilometer-central"} <= set(agents)
    assert "gnocchi-api" not in agents


def test_a_token_issued_by_one_keystone_validates_on_the_other() -> None:
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    keystones = {host: f"http://{HOSTS[host]}:5000/v3" for host in API_HOSTS}
    for issuer, validator in (API_HOSTS, tuple(reversed(API_HOSTS))):
        token = issue_token("admin", passwords["keystone_admin_password"], "admin",
                            keystones[issuer])
        status, _, reply = request(f"{keystones[validator]}/auth/tokens", token,
                                   headers={"X-Subject-Token": token})
        assert status == 200, f"issued by {issuer}, refused by {validator}: {reply}"
    # Each derived the same keys on its own: identical repositories, none copied.
    digests = {host: on_host(host, "podman exec keystone sh -c 'cd /etc/keystone && "
                                   "sha256sum fernet-keys/* credential-keys/*'").stdout
               for host in API_HOSTS}
    assert digests["api01"] == digests["api02"]
    # 5 fernet keys (a daily rotation, a 2-day allow_expired window) and 2 credential keys.
    assert len(digests["api01"].splitlines()) == 7


RABBITMQ_HOSTS = ("api01", "api02", "agents01")  # the rig inventory's rabbitmq group


def rabbitmq_running_nodes(host: str = "api01") -> set[str]:
    """The nodes the cluster counts as running, as one of its nodes reports it."""
    result = on_host(host, "podman exec rabbitmq rabbitmqctl cluster_status --formatter json",
                     check=False)
    return set(json.loads(result.stdout)["running_nodes"]) if result.returncode == 0 else set()


def test_rabbitmq_is_one_cluster_whose_queues_are_replicated_on_every_node() -> None:
    nodes = {f"rabbit@{HOSTS[host]}" for host in RABBITMQ_HOSTS}
    for host in RABBITMQ_HOSTS:
        assert rabbitmq_running_nodes(host) == nodes, host
    queues = json.loads(on_host("api01", "podman exec rabbitmq rabbitmqctl list_queues "
                                         "--formatter json name type durable members").stdout)
    durable = [queue for queue in queues if queue["durable"]]
    assert durable, "the services declared their queues"
    assert all(queue["type"] == "quorum" for queue in durable), durable
    assert all(set(queue["members"]) == nodes for queue in durable), durable


GALERA_HOSTS = ("api01", "api02", "agents01")  # the rig inventory's mariadb group
GALERA_STATUS = ("wsrep_cluster_size", "wsrep_local_state_comment", "wsrep_cluster_status",
                 "wsrep_cluster_state_uuid")


def galera_status(host: str) -> dict[str, str]:
    """The node's own view of the cluster, asked over its socket ({} when it does not answer)."""
    names = ",".join(f"'{name}'" for name in GALERA_STATUS)
    result = on_host(host, "podman exec mariadb mariadb -N -B -e "
                           f"\"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})\"", check=False)
    if result.returncode != 0:
        return {}
    return dict(line.split("\t", 1) for line in result.stdout.splitlines())


def galera_synced(host: str, size: int = len(GALERA_HOSTS)) -> bool:
    status = galera_status(host)
    return (status.get("wsrep_local_state_comment"), status.get("wsrep_cluster_status"),
            status.get("wsrep_cluster_size")) == ("Synced", "Primary", str(size))


def sql(statement: str, via: str = "proxy", client: str = "agents01") -> list[str]:
    """Rows (tab-separated) of `statement` run by the admin account from client's mariadb
    container: through the mariadb-proxy on lb01 as the services connect, or on one node
    (via=HOST), waiting until that node has applied every write certified before it."""
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    address, port = (HOSTS["lb01"], 13306) if via == "proxy" else (HOSTS[via], 3306)
    wait = "" if via == "proxy" else "SET SESSION wsrep_sync_wait = 1; "
    password = shlex.quote(passwords["database_password"])
    result = on_host(client, f"podman exec -e MYSQL_PWD={password} mariadb mariadb -h {address} "
                             f"-P {port} -u root -N -B -e {shlex.quote(wait + statement)}",
                     check=False)
    assert result.returncode == 0, f"{statement} via {via}: {result.stderr}"
    return result.stdout.splitlines()


def mark(note: str) -> str:
    """A row written through the proxy, to be found again on every node."""
    marker = f"{note}-{uuid.uuid4()}"
    sql("CREATE DATABASE IF NOT EXISTS rigcheck; CREATE TABLE IF NOT EXISTS rigcheck.marks "
        f"(mark VARCHAR(80) PRIMARY KEY); INSERT INTO rigcheck.marks VALUES ('{marker}')")
    return marker


def writers() -> set[str]:
    """The hosts that took a few new connections through the proxy (one when it works)."""
    nodes = {sql("SELECT @@wsrep_node_address")[0].split(":")[0] for _ in range(5)}
    return {host for host, address in HOSTS.items() if address in nodes}


def on_every_node(marker: str) -> dict[str, bool]:
    query = f"SELECT COUNT(*) FROM rigcheck.marks WHERE mark = '{marker}'"
    return {host: sql(query, via=host) == ["1"] for host in GALERA_HOSTS}


def test_mariadb_is_one_galera_cluster_written_through_one_node() -> None:
    statuses = {host: galera_status(host) for host in GALERA_HOSTS}
    for host in GALERA_HOSTS:
        assert galera_synced(host), (host, statuses[host])
    assert len({status["wsrep_cluster_state_uuid"] for status in statuses.values()}) == 1
    # The proxy sends every connection to one writer.
    assert len(writers()) == 1
    # A write through it is on every node; so are the services' databases.
    assert all(on_every_node(mark("replicated")).values())
    for host in GALERA_HOSTS:
        assert {"keystone", "gnocchi", "aodh"} <= set(sql("SHOW DATABASES", via=host)), host


def test_every_hosts_snmpd_feeds_gnocchi(token: str) -> None:
    def polled() -> set[str]:
        status, _, found = request(f"{GNOCCHI}/resource/host", token)
        assert status == 200, found
        return {address for address in HOSTS.values()
                if any(address in (r.get("original_resource_id") or "") for r in found)}

    wait_for("a host resource for each of the four hosts",
             lambda: polled() == set(HOSTS.values()), timeout=240)


def test_losing_a_backend_then_its_whole_host_during_ingest_loses_nothing(
        token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    ingest, clients = running_ingest
    on_host("api02", "podman kill --signal KILL gnocchi-api")
    time.sleep(2)
    on_host("api02", "podman start gnocchi-api")
    wait_container_healthy("api02", "gnocchi-api")
    on_host("api02", "podman stop gnocchi-api")
    time.sleep(2)
    on_host("api02", "podman start gnocchi-api")
    wait_container_healthy("api02", "gnocchi-api")
    # The whole host: shut down, then a power cut; each time it boots and its containers
    # come back on their own (restart policy), with nobody redeploying.
    # Rows written while it is down reach its Galera node when it is back.
    written_meanwhile = []
    for how in (["podman", "stop", "-t", "10", "rig-api02"],
                ["podman", "kill", "--signal", "KILL", "rig-api02"]):
        subprocess.run(how, check=True, capture_output=True)
        written_meanwhile.append(mark("api02-down"))
        time.sleep(5)
        subprocess.run(["podman", "start", "rig-api02"], check=True, capture_output=True)
        wait_container_healthy("api02", "gnocchi-api")
    ingest.finish(clients)
    ingest.assert_nothing_lost(token)
    # Its rabbitmq and Galera nodes rejoined their clusters on their own.
    wait_for("api02's rabbitmq node running in the cluster again",
             lambda: f"rabbit@{HOSTS['api02']}" in rabbitmq_running_nodes(), timeout=180)
    wait_for("api02's Galera node Synced in the cluster again", lambda: galera_synced("api02"),
             timeout=180)
    assert all(on_every_node(marker)["api02"] for marker in written_meanwhile)


def test_losing_the_database_writer_during_ingest_loses_nothing(
        token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    ingest, clients = running_ingest
    [writer] = writers()
    # A crash of the writer's mariadb (its main process killed; `podman kill` would count as
    # stopped by the user, and no restart policy would start it): the proxy hands every new
    # connection to one other node.
    on_host(writer, "kill -KILL $(podman inspect --format '{{.State.Pid}}' mariadb)")
    written_meanwhile = mark("writer-down")
    stand_in = writers()
    assert len(stand_in) == 1 and writer not in stand_in, stand_in
    # Its restart policy starts it again; it recovers its position, catches up by IST and takes
    # the writes back.
    wait_container_healthy(writer, "mariadb")
    wait_for("the writer back behind the proxy", lambda: writers() == {writer}, timeout=60)
    ingest.finish(clients)
    ingest.assert_nothing_lost(token)
    assert all(galera_synced(host) for host in GALERA_HOSTS)
    assert all(on_every_node(written_meanwhile).values())


def started_at(host: str, name: str) -> float:
    attrs = json.loads(on_host(host, f"podman inspect {name}").stdout)[0]
    return _epoch(attrs["State"]["StartedAt"])


def _epoch(stamp: str) -> float:
    # podman: 2026-12-02T07:01:02.123456789Z (nanoseconds; fromisoformat takes microseconds)
    date, _, fraction = stamp.rstrip("Z").partition(".")
    return time.mktime(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{fraction or 0}")


class ResourceCreation:
    """Creates gnocchi resources through the LB, one after another, until stopped: POSTs nginx
    never resends (a resent one would answer 409, as its id already exists), so only a drain
    keeps them from failing when their backend stops under them."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.marker = f"drain-{uuid.uuid4()}"  # user_id of every resource this run creates
        self.created: list[str] = []
        self.failures: list[tuple[int, str, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            resource = str(uuid.uuid4())
            try:
                status, _, reply = request(f"{GNOCCHI}/resource/generic", self.token,
                                           {"id": resource, "user_id": self.marker,
                                            "project_id": self.marker})
            except OSError as error:
                status, reply = 0, error
            if status == 201:
                self.created.append(resource)
            else:
                self.failures.append((status, str(reply)[:200], time.strftime("%T")))

    def stored(self) -> set[str]:
        found: set[str] = set()
        page, marker = f"{GNOCCHI}/search/resource/generic?limit=500&sort=id:asc", ""
        while True:
            status, _, resources = request(page + marker, self.token,
                                           {"=": {"user_id": self.marker}})
            assert status == 200, resources
            if not resources:
                return found
            found |= {r["id"] for r in resources}
            marker = f"&marker={resources[-1]['id']}"


def test_a_serial_reconfigure_restarts_one_api_host_at_a_time_losing_nothing(
        token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    ingest, clients = running_ingest
    creation = ResourceCreation(token)
    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(creation.run)
        try:
            reconfigured = serial_reconfigure_of_gnocchi()
        finally:
            creation.stopping.set()
        creating.result(timeout=120)
    ingest.finish(clients)
    assert reconfigured.returncode == 0, (reconfigured.stdout[-3000:]
                                          + reconfigured.stderr[-2000:])
    # Each API host's gnocchi-api left the LB host's nginx before it stopped.
    for host in API_HOSTS:
        assert f"changed: [{host} -> lb01" in _task_output(
            reconfigured.stdout, "Out of the load balancer before it restarts: gnocchi-api"), host
    assert creation.failures == [], (f"{len(creation.failures)} of "
                                     f"{len(creation.failures) + len(creation.created)} "
                                     f"resource creations failed: {creation.failures[:3]}")
    assert len(creation.created) > 20, "the creations span the restarts"
    assert creation.stored() == set(creation.created), "each created once, none lost"
    ingest.assert_nothing_lost(token)


def _task_output(stdout: str, task: str) -> str:
    """What the play printed under every run of the task named `task`."""
    sections = stdout.split("\nTASK [")
    return "\n".join(section for section in sections if task in section.split("]", 1)[0])


def serial_reconfigure_of_gnocchi() -> subprocess.CompletedProcess[str]:
    """reconfigure --serial 1 of one gnocchi-api option, checked to restart each API host's
    gnocchi-api, api02 only once api01 was done."""
    before = {host: started_at(host, "gnocchi-api") for host in API_HOSTS}
    globals_file = CONFIG_DIR / "globals.yml"
    original = globals_file.read_text()
    # One option of gnocchi-api's config: each API host's gnocchi-api is recreated.
    globals_file.write_text(original + "gnocchi_api_max_limit: 2000\n")
    try:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "telemetry-ansible"), "-i", str(INVENTORY),
             "--configdir", str(CONFIG_DIR), "reconfigure", "--serial", "1", "--tags",
             "gnocchi"], capture_output=True, text=True, check=False)
    finally:
        globals_file.write_text(original)
    if result.returncode == 0:
        after = {host: started_at(host, "gnocchi-api") for host in API_HOSTS}
        assert all(after[host] > before[host] for host in API_HOSTS), "each was restarted"
        # Serial: api02 was recreated only after api01's batch ended (healthy, then the rest
        # of its play), so the two restarts are apart.
        assert after["api02"] - after["api01"] > 5, after
    return result


def test_mariadb_recovery_restarts_a_cluster_that_lost_every_node(token: str) -> None:
    before = mark("before-recovery")
    # Every node at once, as a power cut would: SIGKILL, no clean shutdown, so each says
    # seqno -1 and none is safe to bootstrap; stopped, so no restart policy brings them back.
    for host in GALERA_HOSTS:
        on_host(host, "podman stop --time 0 mariadb")
    assert not any(galera_status(host) for host in GALERA_HOSTS)
    recovery = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "telemetry-ansible"), "-i", str(INVENTORY),
         "--configdir", str(CONFIG_DIR), "mariadb-recovery"],
        capture_output=True, text=True, check=False)
    assert recovery.returncode == 0, recovery.stdout[-3000:] + recovery.stderr[-2000:]
    assert "recovery: bootstrapping on" in recovery.stdout
    for host in GALERA_HOSTS:
        assert galera_synced(host), (host, galera_status(host))
    assert all(on_every_node(before).values()), "every row written before is back"
    # The services reach their databases again: a new token, and the APIs answer.
    passwords = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())
    fresh = issue_token("admin", passwords["keystone_admin_password"], "admin")
    wait_for("gnocchi answering through the LB",
             lambda: request(f"{GNOCCHI}/resource/generic", fresh)[0] == 200, timeout=120)
    assert request(f"{AODH}/alarms", fresh)[0] == 200
