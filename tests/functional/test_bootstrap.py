"""The bootstrap one-shots (python3 -m telemetry.bootstrap) against real containers.

MariaDB, keystone and gnocchi-api run from this project's images on the host network, each on
a free loopback port; every task runs from the toolbox image as the deployment runs it (spec
mounted read-only, entrypoint overridden), twice, and what it did is checked through the
services themselves: the mariadb client, keystone's API, gnocchi's API.

The fixtures chain like a deployment: database task -> keystone bootstrap (db_sync, fernet,
bootstrap) -> keystone task (registers the gnocchi user and endpoints) -> gnocchi-upgrade ->
gnocchi task (finds gnocchi through the catalog). Everything is module-scoped and removed in
teardown; names start with tb-test-.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import string
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from telemetry.image.render import HASH_LABEL
from tests.conftest import run_cli
from tests.functional.conftest import build, wait_until

pytestmark = pytest.mark.images

FIXTURES = Path(__file__).parent / "bootstrap_fixtures"
CONFIG_MOUNT = "/var/lib/telemetry/config_files"
PREFIX = f"tb-test-{uuid.uuid4().hex[:8]}"
SPEC_IN_CONTAINER = "/spec/spec.yml"
IMAGES = ("toolbox", "mariadb", "keystone", "gnocchi-api")
HORIZON_MIMIC = [("0:01:00", 30), ("0:05:00", 288), ("0:30:00", 336), ("2:00:00", 360),
                 ("1 day, 0:00:00", 365)]
HORIZON_METHODS = {"mean", "max", "min", "count", "sum", "std", "rate:mean"}


def _password() -> str:
    # Letters and digits, as telemetry-genpwd makes them: a token_urlsafe value starting with
    # "-" read as an option by keystone-manage made this test fail once in a while.
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Run:
    """One one-shot container: exit code and its two streams."""

    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"

    @property
    def summary(self) -> str:
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""


@dataclass
class Stack:
    """Names, ports and secrets shared by the fixtures; everything started is tracked."""

    engine: docker.DockerClient
    workdir: Path
    images: dict[str, str]  # name -> image id, pinned: other builds may move the tag meanwhile
    db_port: int = field(default_factory=free_port)
    keystone_port: int = field(default_factory=free_port)
    gnocchi_port: int = field(default_factory=free_port)
    root_password: str = field(default_factory=_password)
    admin_password: str = field(default_factory=_password)
    db_passwords: dict[str, str] = field(default_factory=lambda: {
        "keystone": _password(), "gnocchi": _password(), "tbextra": _password()})
    user_passwords: dict[str, str] = field(default_factory=lambda: {
        "gnocchi": _password(), "aodh": _password(), "ceilometer": _password()})
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    extra_secrets: list[str] = field(default_factory=list)
    _count: int = 0

    @property
    def secrets(self) -> list[str]:
        return [self.root_password, self.admin_password, *self.db_passwords.values(),
                *self.user_passwords.values(), *self.extra_secrets]

    @property
    def keystone_url(self) -> str:
        return f"http://127.0.0.1:{self.keystone_port}"

    @property
    def gnocchi_url(self) -> str:
        return f"http://127.0.0.1:{self.gnocchi_port}"

    def name(self, what: str) -> str:
        self._count += 1
        return f"{PREFIX}-{what}-{self._count}"

    def volume(self, what: str) -> str:
        name = f"{PREFIX}-{what}"
        self.volumes.append(name)
        self.engine.volumes.create(name)
        return name

    def start(self, image: str, what: str, config_dir: Path, **kwargs: Any) -> Any:
        """A service container: the image's entrypoint with config_dir as its config mount."""
        name = self.name(what)
        self.containers.append(name)
        volumes = {str(config_dir): {"bind": CONFIG_MOUNT, "mode": "ro"}}
        volumes.update(kwargs.pop("volumes", {}))
        return self.engine.containers.run(image, name=name, detach=True, network_mode="host",
                                          volumes=volumes, **kwargs)

    def one_shot(self, image: str, what: str, config_dir: Path | None = None,
                 timeout: float = 300, **kwargs: Any) -> Run:
        """Run a container to its end; return its exit code and output, then remove it."""
        name = self.name(what)
        self.containers.append(name)
        volumes = {str(config_dir): {"bind": CONFIG_MOUNT, "mode": "ro"}} if config_dir else {}
        volumes.update(kwargs.pop("volumes", {}))
        started = time.monotonic()
        container = self.engine.containers.run(image, name=name, detach=True,
                                               network_mode="host", volumes=volumes, **kwargs)
        try:
            code = container.wait(timeout=timeout)["StatusCode"]
            stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
            stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
        finally:
            container.remove(force=True)
        return Run(code, stdout, stderr, time.monotonic() - started)

    def bootstrap(self, task: str, spec_dir: Path, *args: str, timeout: float = 300) -> Run:
        """python3 -m telemetry.bootstrap TASK --spec /spec/spec.yml ARGS, from the toolbox."""
        run = self.one_shot(
            self.images["toolbox"], task.split("-")[0],
            entrypoint=["python3", "-m", "telemetry.bootstrap", task, "--spec",
                        SPEC_IN_CONTAINER, *args],
            volumes={str(spec_dir): {"bind": "/spec", "mode": "ro"}}, timeout=timeout)
        self.runs.append(run)
        return run

    def toolbox_script(self, script: str, spec_dir: Path, *args: str) -> Any:
        """Run one of bootstrap_fixtures/*.py in the toolbox; its stdout parsed as JSON."""
        run = self.one_shot(
            self.images["toolbox"], "check",
            entrypoint=["python3", f"/checks/{script}", SPEC_IN_CONTAINER, *args],
            volumes={str(spec_dir): {"bind": "/spec", "mode": "ro"},
                     str(FIXTURES): {"bind": "/checks", "mode": "ro"}}, timeout=120)
        assert run.code == 0, run.output
        return json.loads(run.stdout) if run.stdout.strip() else None

    def cleanup(self) -> None:
        """Remove what was started, newest first; one failure does not stop the rest."""
        for name in reversed(self.containers):
            with contextlib.suppress(docker.errors.APIError):
                self.engine.containers.get(name).remove(force=True)
        for name in self.volumes:
            with contextlib.suppress(docker.errors.APIError):
                self.engine.volumes.get(name).remove(force=True)


def write_config(directory: Path, files: dict[str, str], config: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o600)
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    return directory


def config_file(name: str, dest: str, owner: str) -> dict[str, str]:
    return {"source": f"{CONFIG_MOUNT}/{name}", "dest": dest, "owner": owner, "perm": "0600"}


def uwsgi_ini(port: int, wsgi_file: str) -> str:
    return "\n".join([
        "[uwsgi]", "plugins = python3", f"http-socket = 127.0.0.1:{port}",
        f"wsgi-file = {wsgi_file}", "master = true", "processes = 2", "threads = 1",
        "add-header = Connection: close", "die-on-term = true", "need-app = true",
        "buffer-size = 65535", ""])


def write_spec(directory: Path, spec: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "spec.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    path.chmod(0o600)
    return directory


# --- the stack -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory,
          engine: docker.DockerClient) -> Iterator[Stack]:
    """The four images, found by content hash or built (the toolbox carries this source)."""
    workdir = tmp_path_factory.mktemp("bootstrap")
    code, summary, output = build(workdir, *(f"^{image}$" for image in IMAGES))
    assert code == 0, output
    assert summary["failed"] == []
    images = {}
    for entry in summary["images"]:
        if entry["name"] in IMAGES:
            found = engine.images.list(
                filters={"label": f"{HASH_LABEL}={entry['content_hash']}"})
            assert found, f"no image carries {entry['name']}'s content hash"
            images[entry["name"]] = found[0].id
    result = Stack(engine=engine, workdir=workdir, images=images)
    try:
        yield result
    finally:
        result.cleanup()


@pytest.fixture(scope="module")
def spec(stack: Stack) -> dict[str, Any]:
    """One spec with every section, as the deployment renders it."""
    endpoints = {i: stack.keystone_url for i in ("public", "internal", "admin")}
    return {
        "database": {
            "host": "127.0.0.1", "port": stack.db_port, "user": "root",
            "password": stack.root_password, "wait_timeout": 60,
            "databases": [{"name": name, "user": name, "password": password}
                          for name, password in stack.db_passwords.items()],
        },
        "auth": {"auth_url": stack.keystone_url, "username": "admin",
                 "password": stack.admin_password, "project_name": "admin",
                 "wait_timeout": 90},
        "keystone": {
            "users": [{"name": name, "password": password}
                      for name, password in stack.user_passwords.items()],
            "services": [
                {"name": "keystone", "type": "identity", "description": "",
                 "endpoints": endpoints},
                {"name": "gnocchi", "type": "metric", "description": "OpenStack Metric Service",
                 "endpoints": {i: stack.gnocchi_url for i in ("public", "internal", "admin")}},
                {"name": "aodh", "type": "alarming", "description": "OpenStack Alarming Service",
                 "region": "RegionOne",
                 "endpoints": {"public": "http://192.0.2.10:8042",
                               "internal": "http://aodh-api:8042",
                               "admin": "http://aodh-api:8042"}},
            ],
        },
        "gnocchi": {"wait_timeout": 90},  # no url: found in the catalog; default policies
    }


@pytest.fixture(scope="module")
def spec_dir(stack: Stack, spec: dict[str, Any]) -> Path:
    return write_spec(stack.workdir / "spec", spec)


@pytest.fixture(scope="module")
def mariadb(stack: Stack) -> Any:
    """mariadbd as mysql on a free loopback port; root gets a TCP password from --init-file."""
    cnf = "\n".join([
        "[mysqld]", "user = mysql", "datadir = /var/lib/mysql",
        "socket = /run/mysqld/mysqld.sock", "bind-address = 127.0.0.1",
        f"port = {stack.db_port}", "skip-name-resolve", "init-file = /etc/mysql/tb-init.sql",
        ""])
    init = (f"CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '{stack.root_password}';\n"
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;\n")
    config = write_config(stack.workdir / "mariadb", {"tb.cnf": cnf, "init.sql": init}, {
        "command": "mariadbd --defaults-file=/etc/mysql/tb.cnf",
        "user": "mysql",
        "config_files": [config_file("tb.cnf", "/etc/mysql/tb.cnf", "mysql"),
                         config_file("init.sql", "/etc/mysql/tb-init.sql", "mysql")],
    })
    container = stack.start(stack.images["mariadb"], "mariadb", config)

    def ready() -> bool:
        code, _ = container.exec_run(["mariadb", "-h127.0.0.1", f"-P{stack.db_port}",
                                      "-uroot", f"-p{stack.root_password}", "-N", "-e",
                                      "SELECT 1"])
        return code == 0

    wait_until("MariaDB answering", ready, 90,
               logs=lambda: container.logs().decode(errors="replace"))
    return container


def sql(mariadb: Any, query: str) -> str:
    """A query as root over the unix socket inside the MariaDB container."""
    code, out = mariadb.exec_run(["mariadb", "-N", "-B", "-e", query])
    assert code == 0, out
    return out.decode()


def login(mariadb: Any, port: int, user: str, password: str) -> tuple[int, str]:
    """Log in over TCP as user with password (what a service does) and show who we are."""
    code, out = mariadb.exec_run(["mariadb", "-h127.0.0.1", f"-P{port}", f"-u{user}",
                                  f"-p{password}", "-N", "-B", "-e",
                                  "SELECT CURRENT_USER(); SHOW GRANTS"])
    return code, out.decode(errors="replace")


@pytest.fixture(scope="module")
def database_runs(stack: Stack, spec_dir: Path, mariadb: Any) -> list[Run]:
    return [stack.bootstrap("database", spec_dir), stack.bootstrap("database", spec_dir)]


@pytest.fixture(scope="module")
def keystone(stack: Stack, database_runs: list[Run]) -> Any:
    """keystone-manage one-shots in a bootstrap container, then uwsgi; keys on volumes."""
    assert database_runs[0].code == 0, database_runs[0].output
    conf = "\n".join([
        "[DEFAULT]", "use_stderr = true",
        "[database]",
        f"connection = mysql+pymysql://keystone:{stack.db_passwords['keystone']}"
        f"@127.0.0.1:{stack.db_port}/keystone",
        "[fernet_tokens]", "key_repository = /etc/keystone/fernet-keys/", "max_active_keys = 3",
        "[credential]", "key_repository = /etc/keystone/credential-keys/",
        "[token]", "provider = fernet", ""])
    url = stack.keystone_url
    manage = "keystone-manage"
    owner = "--keystone-user keystone --keystone-group keystone"
    config = write_config(
        stack.workdir / "keystone",
        {"keystone.conf": conf, "uwsgi.ini": uwsgi_ini(stack.keystone_port,
                                                       "/usr/bin/keystone-wsgi-public")},
        {"command": "uwsgi --ini /etc/keystone/tb-uwsgi.ini",
         "bootstrap_command": (
             f"{manage} db_sync && {manage} fernet_setup {owner} && "
             f"{manage} credential_setup {owner} && "
             f'{manage} bootstrap --bootstrap-password "$KEYSTONE_ADMIN_PASSWORD" '
             f"--bootstrap-admin-url {url} --bootstrap-internal-url {url} "
             f"--bootstrap-public-url {url} --bootstrap-region-id RegionOne"),
         "user": "keystone",
         "config_files": [config_file("keystone.conf", "/etc/keystone/keystone.conf", "keystone"),
                          config_file("uwsgi.ini", "/etc/keystone/tb-uwsgi.ini", "keystone")],
         "permissions": [{"path": "/etc/keystone/fernet-keys", "owner": "keystone:keystone",
                          "perm": "0700"},
                         {"path": "/etc/keystone/credential-keys",
                          "owner": "keystone:keystone", "perm": "0700"}]})
    volumes = {stack.volume("fernet-keys"): {"bind": "/etc/keystone/fernet-keys", "mode": "rw"},
               stack.volume("credential-keys"): {"bind": "/etc/keystone/credential-keys",
                                                 "mode": "rw"}}
    run = stack.one_shot(stack.images["keystone"], "keystone-bootstrap", config,
                         volumes=dict(volumes), timeout=300,
                         environment={"TELEMETRY_BOOTSTRAP": "1",
                                      "KEYSTONE_ADMIN_PASSWORD": stack.admin_password})
    assert run.code == 0, run.output
    # Not waited for here: the keystone task's own bounded wait is part of what is tested.
    return stack.start(stack.images["keystone"], "keystone", config, volumes=volumes)


@pytest.fixture(scope="module")
def keystone_runs(stack: Stack, spec_dir: Path, keystone: Any) -> list[Run]:
    first = stack.bootstrap("keystone", spec_dir)
    if first.code != 0:
        first = Run(first.code, first.stdout, first.stderr + "\n--- keystone logs\n"
                    + keystone.logs(tail=60).decode(errors="replace"), first.seconds)
    return [first, stack.bootstrap("keystone", spec_dir, "--format", "json")]


@pytest.fixture(scope="module")
def gnocchi(stack: Stack, keystone_runs: list[Run]) -> Any:
    """gnocchi-upgrade one-shot, then gnocchi-api (uwsgi) with keystone auth."""
    assert keystone_runs[0].code == 0, keystone_runs[0].output
    conf = "\n".join([
        "[DEFAULT]",
        "[api]", "auth_mode = keystone",
        "[indexer]",
        f"url = mysql+pymysql://gnocchi:{stack.db_passwords['gnocchi']}"
        f"@127.0.0.1:{stack.db_port}/gnocchi",
        "[storage]", "driver = file", "file_basepath = /var/lib/gnocchi",
        "[keystone_authtoken]",
        f"www_authenticate_uri = {stack.keystone_url}/v3",
        f"auth_url = {stack.keystone_url}/v3", "auth_type = password",
        "project_domain_id = default", "user_domain_id = default", "project_name = service",
        "username = gnocchi", f"password = {stack.user_passwords['gnocchi']}",
        "region_name = RegionOne", ""])
    config = write_config(
        stack.workdir / "gnocchi",
        {"gnocchi.conf": conf,
         "uwsgi.ini": uwsgi_ini(stack.gnocchi_port,
                                "/usr/lib/python3/dist-packages/gnocchi/rest/wsgi.py")},
        {"command": "uwsgi --ini /etc/gnocchi/tb-uwsgi.ini",
         "bootstrap_command": "gnocchi-upgrade",
         "user": "gnocchi",
         "config_files": [config_file("gnocchi.conf", "/etc/gnocchi/gnocchi.conf", "gnocchi"),
                          config_file("uwsgi.ini", "/etc/gnocchi/tb-uwsgi.ini", "gnocchi")]})
    volumes = {stack.volume("gnocchi-data"): {"bind": "/var/lib/gnocchi", "mode": "rw"}}
    run = stack.one_shot(stack.images["gnocchi-api"], "gnocchi-upgrade", config,
                         volumes=dict(volumes), timeout=300,
                         environment={"TELEMETRY_BOOTSTRAP": "1"})
    assert run.code == 0, run.output
    return stack.start(stack.images["gnocchi-api"], "gnocchi-api", config, volumes=volumes)


@pytest.fixture(scope="module")
def gnocchi_runs(stack: Stack, spec_dir: Path, gnocchi: Any) -> list[Run]:
    wait = stack.bootstrap("wait-http", spec_dir, "--url", stack.gnocchi_url, "--timeout", "90")
    first = stack.bootstrap("gnocchi-archive-policies", spec_dir)
    if first.code != 0:
        first = Run(first.code, first.stdout, first.stderr + "\n--- gnocchi-api logs\n"
                    + gnocchi.logs(tail=60).decode(errors="replace"), first.seconds)
    return [wait, first, stack.bootstrap("gnocchi-archive-policies", spec_dir)]


# --- database ------------------------------------------------------------------------------


def test_database_task_creates_then_reports_unchanged(database_runs: list[Run]) -> None:
    first, second = database_runs
    assert first.code == 0, first.output
    for name in ("keystone", "gnocchi", "tbextra"):
        assert f"database {name}: created" in first.stdout, first.output
        assert f"user {name}@%: created" in first.stdout, first.output
        assert f"grant ALL ON {name}.* TO {name}@%: created" in first.stdout, first.output
    assert first.summary == "database: 9 created, 0 updated, 0 unchanged: changed"
    assert second.code == 0, second.output
    assert second.summary == "database: 0 created, 0 updated, 9 unchanged: nothing changed"
    assert "created" not in second.stdout.replace(" 0 created", "")


def test_databases_users_and_grants_exist(stack: Stack, mariadb: Any,
                                          database_runs: list[Run]) -> None:
    schemas = sql(mariadb, "SHOW DATABASES").split()
    for name, password in stack.db_passwords.items():
        assert name in schemas
        code, out = login(mariadb, stack.db_port, name, password)
        assert code == 0, out
        assert f"{name}@%" in out
        assert f"GRANT ALL PRIVILEGES ON `{name}`.* TO `{name}`@`%`" in out
        code, out = login(mariadb, stack.db_port, name, password + "x")
        assert code != 0, "a wrong password must be refused"


def test_database_password_change_is_applied(stack: Stack, mariadb: Any,
                                             spec: dict[str, Any],
                                             database_runs: list[Run]) -> None:
    changed = json.loads(json.dumps(spec))
    new_password = _password()
    stack.extra_secrets.append(new_password)  # so the secrets check covers it
    for entry in changed["database"]["databases"]:
        if entry["name"] == "tbextra":
            entry["password"] = new_password
    run = stack.bootstrap("database", write_spec(stack.workdir / "spec-dbpass", changed))
    assert run.code == 0, run.output
    assert "user tbextra@%: updated (password changed)" in run.stdout, run.output
    assert "user keystone@%: unchanged" in run.stdout
    assert run.summary == "database: 0 created, 1 updated, 8 unchanged: changed"
    assert login(mariadb, stack.db_port, "tbextra", new_password)[0] == 0
    assert login(mariadb, stack.db_port, "tbextra", stack.db_passwords["tbextra"])[0] != 0


def test_database_wrong_admin_password_fails_clearly(stack: Stack, spec: dict[str, Any],
                                                     mariadb: Any) -> None:
    wrong = json.loads(json.dumps(spec))
    wrong["database"]["password"] = "not-" + stack.root_password
    run = stack.bootstrap("database", write_spec(stack.workdir / "spec-dbwrong", wrong))
    assert run.code == 1, run.output
    assert "database: failed: MariaDB at 127.0.0.1" in run.stderr
    assert "1045" in run.stderr  # access denied: not retried
    assert run.seconds < 60
    assert "not-" + stack.root_password not in run.stdout + run.stderr


# --- keystone ------------------------------------------------------------------------------


def test_keystone_task_registers_then_reports_unchanged(keystone_runs: list[Run]) -> None:
    first, second = keystone_runs
    assert first.code == 0, first.output
    for expected in ("project service: created", "role admin: unchanged",
                     "user gnocchi: created",
                     "role assignment admin to gnocchi on project service: created",
                     "service keystone (identity): unchanged",
                     "service gnocchi (metric): created",
                     "endpoint gnocchi internal RegionOne: created",
                     "endpoint keystone public RegionOne: unchanged"):
        assert expected in first.stdout, first.output
    assert first.summary.endswith(": changed")
    assert second.code == 0, second.output
    report = json.loads(second.stdout)
    assert report["changed"] is False
    assert report["counts"]["unchanged"] == len(report["changes"]) == 1 + 1 + 3 * 2 + 3 * 4


def test_keystone_users_have_admin_on_service_and_three_endpoints_each(
        stack: Stack, spec_dir: Path, spec: dict[str, Any],
        keystone_runs: list[Run]) -> None:
    state = stack.toolbox_script("keystone_admin.py", spec_dir, "inspect")
    assert state["service_projects"] == 1
    for user in stack.user_passwords:
        assert "admin" in state["roles_on_service"].get(user, []), state["roles_on_service"]
        assert state["scoped_login"][user] is True, user
    for wanted in spec["keystone"]["services"]:
        services = state["services"][wanted["name"]]
        assert len(services) == 1, services
        assert services[0]["type"] == wanted["type"]
        assert services[0]["endpoints"] == sorted(
            [interface, wanted.get("region", "RegionOne"), url]
            for interface, url in wanted["endpoints"].items())


def test_keystone_restores_a_lost_role_and_updates_a_changed_url(
        stack: Stack, spec_dir: Path, spec: dict[str, Any],
        keystone_runs: list[Run]) -> None:
    stack.toolbox_script("keystone_admin.py", spec_dir, "revoke", "aodh", "admin")
    moved = json.loads(json.dumps(spec))
    aodh = next(s for s in moved["keystone"]["services"] if s["name"] == "aodh")
    aodh["endpoints"]["public"] = "http://198.51.100.7:8042"
    moved_dir = write_spec(stack.workdir / "spec-moved", moved)
    run = stack.bootstrap("keystone", moved_dir)
    assert run.code == 0, run.output
    assert "role assignment admin to aodh on project service: created" in run.stdout
    assert ("endpoint aodh public RegionOne: updated "
            "(http://192.0.2.10:8042 -> http://198.51.100.7:8042)") in run.stdout, run.output
    assert "role assignment admin to gnocchi on project service: unchanged" in run.stdout
    state = stack.toolbox_script("keystone_admin.py", moved_dir, "inspect")
    assert "admin" in state["roles_on_service"]["aodh"]
    endpoints = state["services"]["aodh"][0]["endpoints"]
    assert len(endpoints) == 3
    assert ["public", "RegionOne", "http://198.51.100.7:8042"] in endpoints
    back = stack.bootstrap("keystone", spec_dir)  # and back, for the tests after this one
    assert back.code == 0, back.output
    assert "endpoint aodh public RegionOne: updated" in back.stdout


def test_keystone_not_answering_fails_after_the_bounded_wait(
        stack: Stack, spec: dict[str, Any]) -> None:
    nowhere = json.loads(json.dumps(spec))
    nowhere["auth"].update(auth_url=f"http://127.0.0.1:{free_port()}/v3", wait_timeout=4,
                           wait_interval=1)
    run = stack.bootstrap("keystone", write_spec(stack.workdir / "spec-nowhere", nowhere))
    assert run.code == 1, run.output
    assert "keystone: waiting for keystone at http://127.0.0.1:" in run.stderr
    assert "did not answer within 4 s" in run.stderr, run.output
    assert run.seconds < 60


# --- gnocchi -------------------------------------------------------------------------------


def test_gnocchi_task_creates_policy_replaces_default_rule_then_unchanged(
        gnocchi_runs: list[Run]) -> None:
    wait, first, second = gnocchi_runs
    assert wait.code == 0, wait.output
    assert "answered HTTP" in wait.stdout, wait.output
    assert first.code == 0, first.output
    assert ("archive policy horizon-mimic: created "
            "(1m x 30, 5m x 288, 30m x 336, 2h x 360, 1d x 365)") in first.stdout, first.output
    # gnocchi-upgrade made `default` -> low; the spec wants horizon-mimic
    assert ("archive policy rule default (* -> horizon-mimic): replaced (was * -> low)"
            in first.stdout), first.output
    assert second.code == 0, second.output
    assert second.summary == ("gnocchi-archive-policies: 0 created, 0 updated, 2 unchanged: "
                              "nothing changed")


def test_gnocchi_holds_horizon_mimic_and_the_default_rule(
        stack: Stack, spec_dir: Path, gnocchi_runs: list[Run]) -> None:
    state = stack.toolbox_script("gnocchi_admin.py", spec_dir, stack.gnocchi_url)
    policy = state["policies"]["horizon-mimic"]
    assert [(d["granularity"], d["points"]) for d in policy["definition"]] == HORIZON_MIMIC
    assert set(policy["aggregation_methods"]) == HORIZON_METHODS
    assert state["rules"]["default"] == {"name": "default", "metric_pattern": "*",
                                         "archive_policy_name": "horizon-mimic"}


def test_gnocchi_patches_points_and_reports_what_it_cannot_change(
        stack: Stack, spec_dir: Path, spec: dict[str, Any], gnocchi_runs: list[Run]) -> None:
    changed = json.loads(json.dumps(spec))
    changed["gnocchi"]["archive_policies"] = [
        {"name": "tb-policy", "aggregation_methods": ["mean"],
         "definition": [{"granularity": "1m", "timespan": "1h"}]}]
    changed["gnocchi"]["archive_policy_rules"] = []
    run = stack.bootstrap("gnocchi-archive-policies",
                          write_spec(stack.workdir / "spec-gn1", changed))
    assert run.code == 0, run.output
    assert "archive policy tb-policy: created (1m x 60)" in run.stdout
    changed["gnocchi"]["archive_policies"][0]["definition"] = [
        {"granularity": 60, "points": 120}]
    run = stack.bootstrap("gnocchi-archive-policies",
                          write_spec(stack.workdir / "spec-gn2", changed))
    assert run.code == 0, run.output
    assert "archive policy tb-policy: updated (definition 1m x 60 -> 1m x 120)" in run.stdout
    changed["gnocchi"]["archive_policies"][0].update(
        aggregation_methods=["mean", "max"], definition=[{"granularity": "5m", "points": 12}])
    changed["gnocchi"]["fail_on_drift"] = True
    run = stack.bootstrap("gnocchi-archive-policies",
                          write_spec(stack.workdir / "spec-gn3", changed))
    assert run.code == 1, run.output
    assert ("archive policy tb-policy: drift (definition is [1m x 120], spec wants [5m x 12] "
            "(granularities differ))") in run.stdout, run.output
    assert "aggregation_methods are ['mean'], spec wants ['max', 'mean']" in run.stdout
    assert "gnocchi.fail_on_drift is true" in run.stderr


# --- whole-run properties ------------------------------------------------------------------


def test_wait_http_gives_up_after_its_bound(stack: Stack, spec_dir: Path) -> None:
    run = stack.bootstrap("wait-http", spec_dir, "--url", f"http://127.0.0.1:{free_port()}/",
                          "--timeout", "3", "--interval", "1")
    assert run.code == 1, run.output
    assert "wait-http: waiting for http://127.0.0.1:" in run.stderr
    assert "did not answer within 3 s" in run.stderr


def test_no_secret_is_ever_printed(stack: Stack, database_runs: list[Run],
                                   keystone_runs: list[Run], gnocchi_runs: list[Run]) -> None:
    assert len(stack.runs) >= 7
    for run in stack.runs:
        for secret in stack.secrets:
            assert secret not in run.stdout + run.stderr, "a secret was printed"


def test_bad_spec_exits_2_naming_the_field(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text("auth: {auth_url: http://127.0.0.1:5000}\nkeystone: {users: []}\n")
    result = run_cli("telemetry.bootstrap", "keystone", "--spec", str(spec), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "spec field auth.password is missing" in result.stderr
    spec.write_text("database:\n  host: db\n  password: 's3cr3t-value\n  databases: []\n")
    result = run_cli("telemetry.bootstrap", "database", "--spec", str(spec), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "is not valid YAML at line" in result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr
    spec.write_text("database: {host: db, password: pw, databases: [{name: x, user: x}]}\n")
    result = run_cli("telemetry.bootstrap", "database", "--spec", str(spec), timeout=60)
    assert result.returncode == 2
    assert "spec field database.databases[0].password is missing" in result.stderr
    result = run_cli("telemetry.bootstrap", "database", "--spec", str(tmp_path / "nope.yml"),
                     timeout=60)
    assert result.returncode == 2
    assert "does not exist" in result.stderr
