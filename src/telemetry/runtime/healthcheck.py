#!/usr/bin/env python3
"""Container health checks; installed as /usr/local/bin/telemetry_healthcheck.

Self-contained and stdlib only: copied into every image, whose minimal Debian base has no
curl, ss or netstat. Sockets are found by reading the kernel's tables in /proc/net, which
are per network namespace, so they list exactly the container's own sockets.

Usage:
    telemetry_healthcheck http URL [--timeout S] [--expect-status CODES] [--insecure]
        Healthy when the server answers at all with a status below 500 (401 or 404 still
        prove the service is up), or with one of CODES ("200,204" or "200-299") if given.
        Redirects are not followed: a 3xx is an answer.
    telemetry_healthcheck listen PORT [--udp]
        Healthy when a TCP socket is in LISTEN state on PORT (IPv4 or IPv6), or with --udp
        when a UDP socket is bound to PORT.
    telemetry_healthcheck established PORT [PORT ...]
        Healthy when an ESTABLISHED TCP connection goes to remote PORT (any of them), e.g. a
        worker connected to rabbitmq (5672), redis (6379), or mariadb (3306) directly or
        through the mariadb-proxy (13306).
    telemetry_healthcheck mariadb PORT
        Healthy when MariaDB listens on PORT and answers over its socket (the `mariadb`
        client, as root through unix_socket authentication) and, where it is a Galera node,
        the node is Synced in the Primary component: a joiner, a donor or a node cut off from
        the majority is not ready for clients.

Exit codes (Docker's HEALTHCHECK contract; it treats anything but 0 as unhealthy):
    0   healthy (one line on stdout says why)
    1   unhealthy (one line on stdout says why)
    2   usage error

Environment:
    TELEMETRY_PROC_NET  directory holding tcp, tcp6, udp, udp6 (default /proc/net; for tests)
"""

from __future__ import annotations

import argparse
import http.client
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

PROG = "telemetry_healthcheck"
EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1
DEFAULT_PROC_NET = "/proc/net"
DEFAULT_TIMEOUT = 5.0
TCP_ESTABLISHED = 0x01
TCP_LISTEN = 0x0A


@dataclass(frozen=True)
class Result:
    healthy: bool
    reason: str


@dataclass(frozen=True)
class Socket:
    local_port: int
    remote_port: int
    state: int


class ProcNetError(Exception):
    """None of the socket tables could be read."""


# --- http ----------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report 3xx as it is: the service answered, wherever it points to."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def http_status(url: str, timeout: float, insecure: bool) -> int:
    """The status the server answers with; raises OSError/HTTPException when it does not."""
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    # No proxy: http_proxy left in the environment must not stand between us and the service.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirect,
        urllib.request.HTTPSHandler(context=context),
    )
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def check_http(url: str, timeout: float, expect: set[int] | None, insecure: bool) -> Result:
    try:
        status = http_status(url, timeout, insecure)
    except urllib.error.URLError as exc:
        return Result(False, f"{url} did not answer: {exc.reason}")
    except (OSError, http.client.HTTPException) as exc:
        return Result(False, f"{url} did not answer: {exc or type(exc).__name__}")
    if expect is not None:
        if status in expect:
            return Result(True, f"{url} answered {status}")
        return Result(False, f"{url} answered {status}, expected {_format_codes(expect)}")
    if status < 500:
        return Result(True, f"{url} answered {status}")
    return Result(False, f"{url} answered {status} (server error)")


def parse_status_codes(text: str) -> set[int]:
    """'200,204' or '200-299,401' -> the set of codes; ArgumentTypeError when malformed."""
    codes: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            codes.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid status codes {text!r}: use a list like '200,204' or a range like '200-299'"
        ) from None
    if not codes or min(codes) < 100 or max(codes) > 599:
        raise argparse.ArgumentTypeError(f"invalid status codes {text!r}: must be 100-599")
    return codes


def _format_codes(codes: set[int]) -> str:
    ordered = sorted(codes)
    if len(ordered) > 1 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return ",".join(map(str, ordered))


# --- /proc/net sockets ---------------------------------------------------------------------


def parse_socket_line(line: str) -> Socket | None:
    """One row of /proc/net/{tcp,udp}{,6}: 'sl local rem st ...', addresses as HEXADDR:HEXPORT."""
    fields = line.split()
    if len(fields) < 4 or not fields[0].endswith(":"):
        return None
    try:
        return Socket(
            local_port=int(fields[1].rpartition(":")[2], 16),
            remote_port=int(fields[2].rpartition(":")[2], 16),
            state=int(fields[3], 16),
        )
    except ValueError:
        return None


def read_sockets(proc_net: str, tables: Iterable[str]) -> list[Socket]:
    """Sockets of every readable table; a missing tcp6/udp6 (IPv6 disabled) is fine."""
    sockets: list[Socket] = []
    errors: list[str] = []
    readable = 0
    for table in tables:
        path = os.path.join(proc_net, table)
        try:
            with open(path, encoding="ascii", errors="replace") as handle:
                lines = handle.readlines()[1:]
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror}")
            continue
        readable += 1
        sockets += [s for s in map(parse_socket_line, lines) if s is not None]
    if not readable:
        raise ProcNetError(f"cannot read any socket table ({'; '.join(errors)})")
    return sockets


def check_listen(proc_net: str, port: int, udp: bool) -> Result:
    protocol = "udp" if udp else "tcp"
    try:
        sockets = read_sockets(proc_net, (protocol, f"{protocol}6"))
    except ProcNetError as exc:
        return Result(False, str(exc))
    found = any(s.local_port == port and (udp or s.state == TCP_LISTEN) for s in sockets)
    if found:
        verb = "is bound to" if udp else "listens on"
        return Result(True, f"a {protocol} socket {verb} port {port}")
    what = "no udp socket is bound to" if udp else "nothing listens on tcp"
    return Result(False, f"{what} port {port}")


def check_established(proc_net: str, ports: list[int]) -> Result:
    try:
        sockets = read_sockets(proc_net, ("tcp", "tcp6"))
    except ProcNetError as exc:
        return Result(False, str(exc))
    for port in ports:
        if any(s.remote_port == port and s.state == TCP_ESTABLISHED for s in sockets):
            return Result(True, f"an ESTABLISHED tcp connection goes to remote port {port}")
    wanted = " or ".join(map(str, ports))
    return Result(False, f"no ESTABLISHED tcp connection to remote port {wanted}")


# --- mariadb -------------------------------------------------------------------------------

# One round trip: 0/1, then the Galera state (empty when the server runs without wsrep).
MARIADB_QUERY = ("SELECT @@wsrep_on, "
                 "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                 "WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'), "
                 "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                 "WHERE VARIABLE_NAME = 'WSREP_CLUSTER_STATUS')")


def mariadb_state(timeout: float) -> list[str]:
    """The query's answer, tab-separated fields; raises OSError when the client fails."""
    try:
        answer = subprocess.run(
            ["mariadb", "--batch", "--skip-column-names", f"--connect-timeout={int(timeout)}",
             "-e", MARIADB_QUERY],
            capture_output=True, text=True, timeout=timeout, check=False)
    except (subprocess.TimeoutExpired, FileNotFoundError) as exc:
        raise OSError(f"mariadb client: {exc}") from None
    if answer.returncode != 0:
        raise OSError(answer.stderr.strip() or f"mariadb client exited {answer.returncode}")
    return answer.stdout.strip().split("\t")


def check_mariadb(proc_net: str, port: int, timeout: float) -> Result:
    listening = check_listen(proc_net, port, udp=False)
    if not listening.healthy:
        return listening
    try:
        fields = mariadb_state(timeout)
    except OSError as exc:
        return Result(False, f"mariadb does not answer: {exc}")
    if fields[0] != "1":
        return Result(True, f"mariadb answers on port {port}")
    local_state, cluster_status = [*fields, "", ""][1:3]
    if local_state == "Synced" and cluster_status == "Primary":
        return Result(True, f"galera node Synced in the Primary component, port {port}")
    return Result(False, f"galera node is {local_state or 'unknown'} in a "
                         f"{cluster_status or 'unknown'} component")


# --- command line --------------------------------------------------------------------------


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: must be 1-65535")
    return port


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: must be seconds > 0")
    return value


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"invalid URL {text!r}: must start with http(s)://")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    checks = parser.add_subparsers(dest="check", required=True, metavar="CHECK")
    http_check = checks.add_parser("http", help="an HTTP server answers")
    http_check.add_argument("url", type=_url, metavar="URL")
    http_check.add_argument("--timeout", type=_timeout, default=DEFAULT_TIMEOUT, metavar="S")
    http_check.add_argument("--expect-status", type=parse_status_codes, metavar="CODES")
    http_check.add_argument(
        "--insecure", action="store_true", help="do not verify the TLS certificate"
    )
    listen = checks.add_parser("listen", help="something listens on a local port")
    listen.add_argument("port", type=_port, metavar="PORT")
    listen.add_argument("--udp", action="store_true", help="look for a bound UDP socket")
    established = checks.add_parser("established", help="a connection to a remote port exists")
    established.add_argument("port", type=_port, nargs="+", metavar="PORT")
    mariadb = checks.add_parser("mariadb", help="MariaDB answers (and its Galera node is synced)")
    mariadb.add_argument("port", type=_port, metavar="PORT")
    mariadb.add_argument("--timeout", type=_timeout, default=DEFAULT_TIMEOUT, metavar="S")
    return parser


def run(args: argparse.Namespace, proc_net: str) -> Result:
    if args.check == "http":
        return check_http(args.url, args.timeout, args.expect_status, args.insecure)
    if args.check == "listen":
        return check_listen(proc_net, args.port, args.udp)
    if args.check == "mariadb":
        return check_mariadb(proc_net, args.port, args.timeout)
    return check_established(proc_net, args.port)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = run(args, os.environ.get("TELEMETRY_PROC_NET", "") or DEFAULT_PROC_NET)
    reason = " ".join(result.reason.split())  # Docker shows the output: keep it one line
    print(f"{'healthy' if result.healthy else 'unhealthy'}: {reason}")
    return EXIT_HEALTHY if result.healthy else EXIT_UNHEALTHY


if __name__ == "__main__":
    sys.exit(main())
