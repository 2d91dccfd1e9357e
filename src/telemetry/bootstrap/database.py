"""Task `database`: databases, users and grants on MariaDB, idempotently.

Spec (section ``database``)::

    database:
      host: mariadb            # required
      port: 3306               # default 3306
      user: root               # admin user (default root)
      password: ...            # admin password (required)
      wait_timeout: 120        # seconds to wait for MariaDB to accept connections
      databases:
        - {name: keystone, user: keystone, password: ...}   # host: "%" by default

For each entry: ``CREATE DATABASE IF NOT EXISTS``, the user ``'user'@'host'`` with that
password (created, or ALTERed when the stored hash does not match it), and ``GRANT ALL
PRIVILEGES ON name.*``. Whether anything changed is decided by reading the server's state
first, so a second run reports everything unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telemetry.bootstrap.errors import SpecError, TaskError, scrub
from telemetry.bootstrap.report import Action, TaskResult
from telemetry.bootstrap.retry import Progress, Wait, no_progress, retry
from telemetry.bootstrap.spec import Section

TASK = "database"
NAME_PATTERN = r"[A-Za-z0-9_]{1,64}"
USER_PATTERN = r"[A-Za-z0-9_.-]{1,80}"
HOST_PATTERN = r"[A-Za-z0-9_.:%-]{1,255}"
# MariaDB error numbers that mean "not (yet) reachable": can't connect, lost connection,
# server shutting down / starting ("Server shutdown in progress", "unknown MySQL server host"
# is not one: a wrong host name is retried too, since DNS may lag behind the container).
RETRIABLE_ERRNOS = frozenset({2002, 2003, 2005, 2006, 2013, 1040, 1053})


@dataclass(frozen=True)
class DatabaseEntry:
    name: str
    user: str
    password: str = field(repr=False)
    host: str = "%"


@dataclass(frozen=True)
class DatabaseSpec:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    databases: tuple[DatabaseEntry, ...] = ()
    wait: Wait = field(default_factory=Wait)
    connect_timeout: float = 10.0


def parse_spec(root: Section) -> DatabaseSpec:
    section = root.section("database")
    section.reject_unknown({"host", "port", "user", "password", "databases", "wait_timeout",
                            "wait_interval", "connect_timeout"})
    entries = []
    seen: set[str] = set()
    for item in section.sections("databases"):
        item.reject_unknown({"name", "user", "password", "host"})
        entry = DatabaseEntry(name=item.name("name", pattern=NAME_PATTERN),
                              user=item.name("user", pattern=USER_PATTERN),
                              password=item.text("password"),
                              host=item.name("host", "%", pattern=HOST_PATTERN))
        if entry.name in seen:
            raise SpecError(f"spec field {item.path}.name: database {entry.name} is listed twice")
        seen.add(entry.name)
        entries.append(entry)
    return DatabaseSpec(
        host=section.text("host"), port=section.integer("port", 3306, minimum=1),
        user=section.text("user", "root"), password=section.text("password"),
        databases=tuple(entries),
        wait=Wait(timeout=section.number("wait_timeout", 120.0),
                  interval=section.number("wait_interval", 2.0)),
        connect_timeout=section.number("connect_timeout", 10.0, minimum=1.0))


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def grant_pattern(name: str) -> str:
    """The database name as written in GRANT ... ON db.*: `_` and `%` are wildcards there."""
    return name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def _connect(spec: DatabaseSpec) -> Any:
    import pymysql

    return pymysql.connect(host=spec.host, port=spec.port, user=spec.user,
                           password=spec.password, connect_timeout=spec.connect_timeout,
                           autocommit=True, charset="utf8mb4")


def _is_retriable(exc: Exception) -> bool:
    import pymysql

    if isinstance(exc, pymysql.err.OperationalError | pymysql.err.InterfaceError):
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        return code is None or code in RETRIABLE_ERRNOS
    return isinstance(exc, OSError)


def _ensure_database(cursor: Any, entry: DatabaseEntry, result: TaskResult) -> None:
    cursor.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                   (entry.name,))
    if cursor.fetchone():
        result.add("database", entry.name, Action.UNCHANGED)
        return
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(entry.name)}")
    result.add("database", entry.name, Action.CREATED)


def _ensure_user(cursor: Any, entry: DatabaseEntry, result: TaskResult) -> None:
    account = f"{entry.user}@{entry.host}"
    # mysql.user is a view over mysql.global_priv in MariaDB >= 10.4; the hash of a
    # mysql_native_password account is in authentication_string. PASSWORD() hashes the same way,
    # so the comparison happens in the server and the password never leaves the session.
    cursor.execute("SELECT authentication_string = PASSWORD(%s) FROM mysql.user "
                   "WHERE User = %s AND Host = %s", (entry.password, entry.user, entry.host))
    row = cursor.fetchone()
    if row is None:
        cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s",
                       (entry.user, entry.host, entry.password))
        result.add("user", account, Action.CREATED)
    elif not row[0]:
        cursor.execute("ALTER USER %s@%s IDENTIFIED BY %s",
                       (entry.user, entry.host, entry.password))
        result.add("user", account, Action.UPDATED, "password changed")
    else:
        result.add("user", account, Action.UNCHANGED)


def _has_all_privileges(cursor: Any, entry: DatabaseEntry) -> bool:
    cursor.execute("SHOW GRANTS FOR %s@%s", (entry.user, entry.host))
    wanted = f"GRANT ALL PRIVILEGES ON {quote_identifier(grant_pattern(entry.name))}.* TO "
    return any(str(row[0]).startswith(wanted) for row in cursor.fetchall())


def _ensure_grant(cursor: Any, entry: DatabaseEntry, result: TaskResult) -> None:
    name = f"ALL ON {entry.name}.* TO {entry.user}@{entry.host}"
    if _has_all_privileges(cursor, entry):
        result.add("grant", name, Action.UNCHANGED)
        return
    cursor.execute(f"GRANT ALL PRIVILEGES ON {quote_identifier(grant_pattern(entry.name))}.* "
                   "TO %s@%s", (entry.user, entry.host))
    result.add("grant", name, Action.CREATED)


def ensure(spec: DatabaseSpec, progress: Progress = no_progress) -> TaskResult:
    """Connect as the admin (waiting for MariaDB, bounded) and converge every entry."""
    import pymysql

    result = TaskResult(TASK)
    where = f"MariaDB at {spec.host}:{spec.port}"
    secrets = [spec.password, *(e.password for e in spec.databases)]
    try:
        connection = retry(lambda: _connect(spec), what=where, wait=spec.wait,
                           retriable=_is_retriable, progress=progress)
        try:
            with connection.cursor() as cursor:
                for entry in spec.databases:
                    _ensure_database(cursor, entry, result)
                    _ensure_user(cursor, entry, result)
                    _ensure_grant(cursor, entry, result)
        finally:
            connection.close()
    except pymysql.MySQLError as exc:
        code = exc.args[0] if exc.args else "?"
        message = str(exc.args[1]) if len(exc.args) > 1 else type(exc).__name__
        done = f" (after {len(result.changes)} step(s))" if result.changes else ""
        raise TaskError(scrub(f"{where}: error {code}: {message}{done}", secrets),
                        partial=result) from None
    return result


def run(root: Section, progress: Progress = no_progress) -> TaskResult:
    return ensure(parse_spec(root), progress)

