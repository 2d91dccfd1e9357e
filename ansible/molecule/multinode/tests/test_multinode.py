"""Molecule verify of the rig, from outside it: the APIs through the LB host, every host's snmpd
feeding gnocchi, the Galera, RabbitMQ and Redis Sentinel clusters, and ingest that loses
nothing while an API host is shut down and boots again, while the database writer crashes,
while the redis master's whole host is lost (with an alarm's webhook firing throughout), while
a redis config change restarts one redis node at a time (the master handing over first), and
while a --serial reconfigure restarts one host at a time; last, every Galera node is killed
and telemetry-ansible mariadb-recovery brings the cluster back with its data.

The failures are real: `podman stop` of a test host (an orderly shutdown: its engine stops
every container) and `podman kill` of one (every container of it at once, as a power cut),
which then boot again, their rabbitmq, Galera and redis nodes rejoining their clusters on
their own; SIGKILL to the Galera writer's mariadb inside its host (over SSH).
"""

from __future__ import annotations

import itertools
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
from stack_api import AODH, GNOCCHI, KEYSTONE, issue_token, request, wait_for, webhook_receiver

ROOT = Path(__file__).resolve().parents[4]
CONFIG_DIR = Path(os.environ["TELEMETRY_CONFIG_DIR"])
INVENTORY = ROOT / "ansible" / "inventory" / "rig"
RIG_KEY = "/var/lib/telemetry-rig/id_ed25519"
# The rig inventory's hosts and addresses.
HOSTS = {"lb01": "10.213.0.10", "api01": "10.213.0.11", "api02": "10.213.0.12",
         "agents01": "10.213.0.13"}
API_HOSTS = ("api01", "api02")
# The rig inventory's mariadb, rabbitmq, memcached and redis groups.
CLUSTER_HOSTS = ("api01", "api02", "agents01")
# This machine's address on the rig's network (its bridge), where the test's webhook listens.
RIG_GATEWAY = "10.213.0.1"


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
    for host in CLUSTER_HOSTS:
        names = on_host(host, "podman ps --format '{{.Names}}'").stdout.split()
        assert {"mariadb", "rabbitmq", "memcached", "redis", "redis-sentinel"} <= set(names), host
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


RABBITMQ_HOSTS = CLUSTER_HOSTS


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


GALERA_HOSTS = CLUSTER_HOSTS
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


def test_shutting_an_api_host_down_during_ingest_loses_nothing(
        token: str, running_ingest: tuple[Ingest, list[Future[None]]]) -> None:
    ingest, clients = running_ingest
    # An orderly shutdown of the whole host (its engine stops every container), then it boots
    # and its containers come back on their own (restart policy), with nobody redeploying.
    # (A single backend killed and stopped is the default scenario's; the power cut of a host
    # is the redis master's test below.) Rows written while it is down reach its Galera node
    # when it is back.
    subprocess.run(["podman", "stop", "-t", "10", "rig-api02"], check=True, capture_output=True)
    written_meanwhile = [mark("api02-down")]
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


REDIS_HOSTS = CLUSTER_HOSTS
SENTINEL_PORT = 26379


def redis_cli(host: str, container: str, *command: str) -> list[str]:
    """A redis-cli command to the redis (6379) or redis-sentinel (26379) of a host, from inside
    that container; [] when it does not answer. (Sentinel rewrites its config file, password
    included, so the password comes from passwords.yml.)"""
    port = SENTINEL_PORT if container == "redis-sentinel" else 6379
    password = yaml.safe_load((CONFIG_DIR / "passwords.yml").read_text())["redis_password"]
    result = on_host(host, f"podman exec -e REDISCLI_AUTH={shlex.quote(password)} {container} "
                           f"redis-cli --no-auth-warning -h {HOSTS[host]} -p {port} "
                           f"{shlex.join(command)}", check=False)
    return [line for line in result.stdout.splitlines() if line] if result.returncode == 0 else []


def redis_master(asking: str) -> str | None:
    """The host that asking's sentinel names as the master."""
    answer = redis_cli(asking, "redis-sentinel", "SENTINEL", "get-master-addr-by-name",
                       "telemetry")
    return next((host for host, address in HOSTS.items() if answer[:1] == [address]), None)


def redis_replication(host: str) -> dict[str, str]:
    lines = redis_cli(host, "redis", "INFO", "replication")
    return dict(line.strip().split(":", 1) for line in lines if ":" in line)


def redis_follows(host: str, master: str) -> bool:
    info = redis_replication(host)
    return (info.get("role"), info.get("master_host"), info.get("master_link_status")) == (
        "slave", HOSTS[master], "up")


def test_redis_is_a_master_and_two_replicas_watched_by_three_sentinels() -> None:
    masters = {host: redis_master(host) for host in REDIS_HOSTS}
    assert len(set(masters.values())) == 1 and None not in masters.values(), masters
    master = masters["agents01"]
    assert redis_replication(master)["role"] == "master"
    assert all(redis_follows(host, master) for host in REDIS_HOSTS if host != master)
    state = redis_cli("agents01", "redis-sentinel", "SENTINEL", "master", "telemetry")
    fields = dict(zip(state[::2], state[1::2], strict=True))
    assert (fields["num-slaves"], fields["num-other-sentinels"], fields["quorum"]) == (
        "2", "2", "2"), fields
    # Every gnocchi client asks the sentinels: none holds a connection to a replica.
    assert int(redis_replication(master)["connected_slaves"]) == 2


def host_resource_of(token: str, host: str) -> str:
    """The gnocchi resource of a host's snmpd (polled by ceilometer-central)."""
    status, _, found = request(f"{GNOCCHI}/resource/host", token)
    assert status == 200, found
    return next(r["id"] for r in found if HOSTS[host] in (r.get("original_resource_id") or ""))


def firing_alarm(token: str, resource: str, webhook_url: str) -> str:
    """An alarm always in `alarm` on lb01's memory (used > 0), which calls the webhook at each
    evaluation (repeat_actions): its notifications show evaluation going on."""
    alarm = {"name": f"rig-memory-{time.time_ns()}", "type": "gnocchi_resources_threshold",
             "gnocchi_resources_threshold_rule": {
                 "metric": "custom.hardware.memory.utilization", "resource_type": "host",
                 "resource_id": resource, "aggregation_method": "mean", "granularity": 60,
                 "evaluation_periods": 1, "comparison_operator": "gt", "threshold": 0.0},
             "alarm_actions": [webhook_url], "repeat_actions": True}
    status, _, created = request(f"{AODH}/alarms", token, alarm)
    assert status == 201, created
    return created["alarm_id"]


def processed_by_metricd(token: str, policy: str) -> bool:
    """A measure posted now (sent again until acknowledged) is read back without ?refresh
    (gnocchi-api leaves it to metricd)."""
    metric = wait_for("a new metric", lambda: _created_metric(token, policy), timeout=90)
    wait_for("a measure acknowledged", lambda: _acknowledged(token, metric), timeout=120)
    # metricd scans its sacks every metric_processing_delay (60 s, seed 003's), and a scan under
    # way when the host went waits out the timeouts of its connections there (redis 5 s each,
    # a query on the lost Galera node database_client_timeout): up to 151 s from acknowledged
    # to processed, measured on the rig (a power cut, that timeout at 120 s). Slow is allowed
    # about twice that; broken until restarted (issue 185) never passes.
    try:
        return bool(wait_for("gnocchi-metricd processing a new measure",
                             lambda: _processed_measures(token, metric), timeout=300))
    except TimeoutError as error:
        raise AssertionError(f"{error}; what it logged last:\n{metricd_log()}") from None


def metricd_log() -> str:
    """gnocchi-metricd's last errors and reports (its SQLAlchemy warnings left out)."""
    command = ("PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman logs --since 10m gnocchi-metricd 2>&1"
               " | grep -E '^[0-9]{4}-|Error|Exception' | grep -v SAWarning | tail -n 60")
    return on_host("agents01", command, check=False).stdout


def _created_metric(token: str, policy: str) -> str | None:
    try:
        status, _, metric = request(f"{GNOCCHI}/metric", token, {"archive_policy_name": policy})
    except OSError:  # held past this client's 30 s while the cluster fails over: try again
        return None
    return metric["id"] if status == 201 else None


def _processed_measures(token: str, metric: str) -> list:
    status, _, measures = request(f"{GNOCCHI}/metric/{metric}/measures?granularity=1", token)
    assert status == 200, (status, measures)
    return measures


def _acknowledged(token: str, metric: str) -> bool:
    # The LB passes a measure write that failed on every backend once more, patiently: while
    # the cluster fails over it may hold it past this client's 30 s. Another try, then.
    try:
        return request(f"{GNOCCHI}/metric/{metric}/measures", token,
                       [{"timestamp": time.time(), "value": 1.0}])[0] == 202
    except OSError:
        return False


def test_losing_the_redis_masters_whole_host_loses_no_measure_and_keeps_alarms_firing(
        token: str) -> None:
    master = redis_master("agents01")
    # A deploy makes the first host (api01) the master: its loss takes an API host too.
    assert master in API_HOSTS, f"the redis master is on {master}"
    witness = next(host for host in REDIS_HOSTS if host not in (master, "api01"))
    metricd_started = started_at("agents01", "gnocchi-metricd")
    survivor = next(host for host in API_HOSTS if host != master)
    survivor_api_started = started_at(survivor, "gnocchi-api")
    policy = create_policy(token)
    with webhook_receiver(RIG_GATEWAY) as (webhook_url, received):
        alarm = firing_alarm(token, host_resource_of(token, "lb01"), webhook_url)

        def notified_since(first: int) -> list[dict]:
            """Its notifications among the webhook's from the first-th on."""
            return [notice for notice in received[first:]
                    if notice.get("alarm_id") == alarm and notice.get("current") == "alarm"]
        try:
            wait_for("the alarm's first notification", lambda: notified_since(0), timeout=180)
            with ingest_running(token, policy, resend_failed=True) as (ingest, clients):
                # A power cut of the master's host: every container of it at once (redis and
                # its sentinel, memcached, a Galera and a RabbitMQ node, and on an API host
                # keystone, gnocchi-api and aodh-api).
                subprocess.run(["podman", "kill", "--signal", "KILL", f"rig-{master}"],
                               check=True, capture_output=True)
                lost_at = time.time()
                try:
                    new_master = wait_for("the sentinels promoting a replica", lambda: (
                        redis_master(witness) not in (master, None) and redis_master(witness)),
                        timeout=60)
                except TimeoutError as error:
                    raise AssertionError(f"{error}; what the surviving sentinels logged:\n"
                                         + sentinel_logs(set(REDIS_HOSTS) - {master})) from None
                elected_at, elected_seen = time.time(), len(received)
                # Issue 185: metricd goes on processing on the new master, not restarted.
                assert processed_by_metricd(token, policy)
                wait_for("alarm notifications with the host down",
                         lambda: notified_since(elected_seen), timeout=90)
                subprocess.run(["podman", "start", f"rig-{master}"], check=True,
                               capture_output=True)
                wait_container_healthy(master, "redis-sentinel")
                if master in API_HOSTS:
                    wait_container_healthy(master, "gnocchi-api")
                ingest.finish(clients)
            ingest.assert_nothing_lost(token)
            # What failed was resent and stored once. Writes fail from the loss until the
            # promotion, and a few more while the LB and gnocchi-api drop their connections to
            # the lost host and take it back: a few tries, not a share of the ingest.
            late = [round(at - elected_at) for _, _, at in ingest.resent if at > elected_at]
            assert len(ingest.resent) <= ingest.batches // 10, (
                f"{len(ingest.resent)} of {ingest.batches} tries failed (promotion "
                f"{elected_at - lost_at:.0f} s after the loss; seconds after it: {late}): "
                f"{ingest.resent[-3:]}")
            back_seen = len(received)
            wait_for("alarm notifications with the host back", lambda: notified_since(back_seen),
                     timeout=90)
        finally:
            # Back in any case, its APIs answering again: the later tests need every host.
            subprocess.run(["podman", "start", f"rig-{master}"], capture_output=True)
            if master in API_HOSTS:
                wait_container_healthy(master, "gnocchi-api")
            request(f"{AODH}/alarms/{alarm}", token, method="DELETE")
    # The old master came back as a replica of the new one; everything rejoined on its own.
    wait_for(f"{master}'s redis replicating from {new_master}",
             lambda: redis_follows(master, new_master), timeout=120)
    wait_for("every sentinel naming the new master", lambda: all(
        redis_master(host) == new_master for host in REDIS_HOSTS), timeout=60)
    wait_for(f"{master}'s rabbitmq node running in the cluster again",
             lambda: f"rabbit@{HOSTS[master]}" in rabbitmq_running_nodes(witness), timeout=180)
    wait_for(f"{master}'s Galera node Synced in the cluster again",
             lambda: galera_synced(master), timeout=180)
    # Issue 185's other half: neither gnocchi process needed a restart after the failover.
    assert started_at("agents01", "gnocchi-metricd") == metricd_started, "metricd not restarted"
    assert started_at(survivor, "gnocchi-api") == survivor_api_started, (
        f"{survivor}'s gnocchi-api not restarted")


def sentinel_logs(hosts: set[str]) -> str:
    """The last lines each host's sentinel logged (its votes, elections and failovers)."""
    command = "PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman logs --tail 25 redis-sentinel 2>&1"
    return "\n".join(f"{host}:\n{on_host(host, command, check=False).stdout}"
                     for host in sorted(hosts))


def test_a_redis_config_change_restarts_one_node_at_a_time_the_master_handing_over(
        token: str) -> None:
    gnocchi_started = {("agents01", "gnocchi-metricd"): started_at("agents01", "gnocchi-metricd"),
                       **{(host, "gnocchi-api"): started_at(host, "gnocchi-api")
                          for host in API_HOSTS}}
    before = {host: started_at(host, "redis") for host in REDIS_HOSTS}
    with ingest_running(token, create_policy(token), resend_failed=True) as (ingest, clients):
        deployed = deploy_redis_config_change()
        ingest.finish(clients)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-2000:]
    after = {host: started_at(host, "redis") for host in REDIS_HOSTS}
    # Each node recreated, one host after another (the next once the one before and its
    # sentinel are healthy again), so their starts are apart.
    assert all(after[host] > before[host] for host in REDIS_HOSTS), (before, after)
    starts = sorted(after.values())
    assert all(later - earlier > 5 for earlier, later in itertools.pairwise(starts)), after
    handed_over = _task_output(deployed.stdout, "What it handed over: redis")
    assert "handed the master over to" in handed_over, handed_over
    master = wait_for("one master named by every sentinel", lambda: (
        len({redis_master(host) for host in REDIS_HOSTS}) == 1 and redis_master("api01")))
    wait_for("every other node replicating it", lambda: all(
        redis_follows(host, master) for host in REDIS_HOSTS if host != master))
    ingest.assert_nothing_lost(token)
    # The master's writes waited while a replica took over; those it held are refused once it
    # follows the new master (gnocchi's redis client does not send them again): a handful of
    # tries, sent again, never most of a restart's worth.
    assert len(ingest.resent) <= 10, (f"{len(ingest.resent)} of {ingest.batches} tries failed: "
                                      f"{ingest.resent[:3]}")
    # gnocchi went on with the new master: neither process restarted (gnocchi issue 185).
    assert {key: started_at(*key) for key in gnocchi_started} == gnocchi_started


def deploy_redis_config_change() -> subprocess.CompletedProcess[str]:
    """`telemetry-ansible deploy --tags redis` with one more line in each host's redis.conf (an
    operator override, config/redis/HOST/redis.conf, as Kolla-Ansible's node_custom_config)."""
    overrides = []
    for host in REDIS_HOSTS:
        deployed = on_host(host, "cat /etc/telemetry/containers/redis/redis.conf").stdout
        override = CONFIG_DIR / "config" / "redis" / host / "redis.conf"
        override.parent.mkdir(parents=True, exist_ok=True)
        override.write_text(deployed + "maxclients 5000\n")
        overrides.append(override)
    try:
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "telemetry-ansible"), "-i", str(INVENTORY),
             "--configdir", str(CONFIG_DIR), "deploy", "--tags", "redis"],
            capture_output=True, text=True, check=False)
    finally:
        for override in overrides:
            override.unlink()


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
