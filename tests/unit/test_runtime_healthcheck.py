"""telemetry_healthcheck, run as the real script against real loopback sockets and fake /proc."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HEALTHCHECK = (
    Path(__file__).resolve().parents[2] / "src" / "telemetry" / "runtime" / "healthcheck.py"
)


def healthcheck(*args: str, proc_net: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEMETRY_")}
    if proc_net is not None:
        env["TELEMETRY_PROC_NET"] = str(proc_net)
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_verdict(result: subprocess.CompletedProcess[str], healthy: bool, *words: str) -> None:
    assert result.returncode == (0 if healthy else 1), result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("healthy: " if healthy else "unhealthy: ")
    for word in words:
        assert word in lines[0]


def free_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- http ---------------------------------------------------------------------------------


@contextlib.contextmanager
def http_server(status: int, location: str | None = None) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthcheck"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [200, 204, 401, 404])
def test_http_any_answer_below_500_is_healthy(status: int) -> None:
    with http_server(status) as url:
        assert_verdict(healthcheck("http", url), True, f"answered {status}")


@pytest.mark.parametrize("status", [500, 503])
def test_http_server_error_is_unhealthy(status: int) -> None:
    with http_server(status) as url:
        assert_verdict(healthcheck("http", url), False, f"answered {status}")


def test_http_redirect_is_an_answer_and_not_followed() -> None:
    elsewhere = f"http://127.0.0.1:{free_port()}/login"
    with http_server(302, location=elsewhere) as url:
        assert_verdict(healthcheck("http", url), True, "answered 302")


def test_http_closed_port_is_unhealthy() -> None:
    url = f"http://127.0.0.1:{free_port()}/"

    assert_verdict(healthcheck("http", url), False, url, "did not answer", "refused")


def test_http_expect_status_overrides_the_default() -> None:
    with http_server(401) as url:
        assert_verdict(healthcheck("http", url, "--expect-status", "200,204"), False, "200,204")
        assert_verdict(healthcheck("http", url, "--expect-status", "401"), True)
    with http_server(204) as url:
        assert_verdict(healthcheck("http", url, "--expect-status", "200-299"), True)
    with http_server(503) as url:
        assert_verdict(healthcheck("http", url, "--expect-status", "503"), True)


def test_http_timeout_when_the_server_never_answers() -> None:
    with socket.socket() as silent:  # accepts connections (kernel backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        began = time.monotonic()

        result = healthcheck("http", url, "--timeout", "0.5")

    assert_verdict(result, False, "did not answer")
    assert time.monotonic() - began < 10


@pytest.mark.parametrize(
    "args",
    [
        ["http", "ftp://example.org/"],
        ["http", "http://127.0.0.1/", "--expect-status", "ok"],
        ["http", "http://127.0.0.1/", "--expect-status", "99"],
        ["http", "http://127.0.0.1/", "--timeout", "0"],
        ["listen", "0"],
        ["listen", "65536"],
        ["established", "rabbit"],
        ["ping"],
        [],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = healthcheck(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr


# --- listen / established on the real /proc/net -------------------------------------------


def test_listen_finds_a_real_tcp_listener() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        assert_verdict(healthcheck("listen", str(port)), True, str(port))
    assert_verdict(healthcheck("listen", str(port)), False, f"port {port}")


def test_listen_finds_a_real_ipv6_listener() -> None:
    if not socket.has_ipv6 or not os.path.exists("/proc/net/tcp6"):
        pytest.skip("no IPv6 on this host")
    with socket.socket(socket.AF_INET6) as server:
        try:
            server.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback on this host")
        server.listen(1)

        assert_verdict(healthcheck("listen", str(server.getsockname()[1])), True)


def test_listen_finds_a_real_udp_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = str(udp.getsockname()[1])

        assert_verdict(healthcheck("listen", port, "--udp"), True, "udp")
        assert_verdict(healthcheck("listen", port), False)  # not a tcp listener


def test_established_finds_a_real_connection() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert_verdict(healthcheck("established", str(port)), False, f"remote port {port}")

        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            with accepted:
                assert_verdict(healthcheck("established", str(port)), True, f"port {port}")
                # The client's ephemeral port is connected, not listening.
                client_port = client.getsockname()[1]
                assert_verdict(healthcheck("listen", str(client_port)), False)


# --- fake /proc/net -----------------------------------------------------------------------

UDP_HEADER = (
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode ref pointer drops\n"
)
TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
)
TAIL = " 00000000:00000000 00:00000000 00000000   109        0 31337 2 0000000000000000 0\n"


def proc_net(tmp_path: Path, **tables: str) -> Path:
    directory = tmp_path / "net"
    directory.mkdir()
    for name, content in tables.items():
        (directory / name).write_text(content)
    return directory


def test_udp_listen_from_fake_proc(tmp_path: Path) -> None:
    # snmpd bound to 0.0.0.0:161 (0x00A1), unconnected UDP sockets show state 07
    net = proc_net(
        tmp_path,
        udp=UDP_HEADER + "  868: 00000000:00A1 00000000:0000 07" + TAIL,
        udp6=UDP_HEADER,
    )

    assert_verdict(healthcheck("listen", "161", "--udp", proc_net=net), True, "161")
    assert_verdict(healthcheck("listen", "162", "--udp", proc_net=net), False, "162")


def test_udp6_only_from_fake_proc(tmp_path: Path) -> None:
    line = f"  12: {'0' * 32}:00A1 {'0' * 32}:0000 07" + TAIL
    net = proc_net(tmp_path, udp6=UDP_HEADER + line)  # no udp table at all

    assert_verdict(healthcheck("listen", "161", "--udp", proc_net=net), True)


def test_listen_ignores_sockets_not_in_listen_state(tmp_path: Path) -> None:
    # local port 8041 (0x1F69) but ESTABLISHED (01): an outgoing connection, not a server
    established = "   3: 0100007F:1F69 0100007F:D431 01" + TAIL
    listening = "   4: 00000000:0BB8 00000000:0000 0A" + TAIL  # 3000 in LISTEN
    net = proc_net(tmp_path, tcp=TCP_HEADER + established + listening)

    assert_verdict(healthcheck("listen", "8041", proc_net=net), False)
    assert_verdict(healthcheck("listen", "3000", proc_net=net), True)
    assert_verdict(healthcheck("established", "54321", proc_net=net), True)  # 0xD431
    assert_verdict(healthcheck("established", "3000", proc_net=net), False)


def test_unreadable_proc_is_unhealthy(tmp_path: Path) -> None:
    result = healthcheck("listen", "80", proc_net=tmp_path / "missing")

    assert_verdict(result, False, "cannot read", "tcp")


# --- mariadb (the `mariadb` client is a stand-in script: the real one answers in the deploys) ---


def fake_mariadb_client(tmp_path: Path, answer: str, exit_code: int = 0) -> dict[str, str]:
    """PATH with a stand-in `mariadb` that prints what a server would answer the check's query
    (tab-separated, as --batch prints it) and exits like the real client."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "answer").write_text(answer + "\n")
    client = bin_dir / "mariadb"
    stream = ">&2" if exit_code else ""
    client.write_text(f"#!/bin/sh\ncat '{bin_dir}/answer' {stream}\nexit {exit_code}\n")
    client.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def mariadb_check(port: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(HEALTHCHECK), "mariadb", str(port)], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("answer", "healthy", "word"), [
    ("0\tNULL\tNULL", True, "mariadb answers"),
    ("1\tSynced\tPrimary", True, "Synced in the Primary"),
    ("1\tJoiner\tPrimary", False, "Joiner"),
    ("1\tDonor/Desynced\tPrimary", False, "Donor/Desynced"),
    ("1\tInitialized\tnon-Primary", False, "non-Primary"),
])
def test_mariadb_is_healthy_when_it_answers_and_its_galera_node_is_synced(
        tmp_path: Path, answer: str, healthy: bool, word: str) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert_verdict(mariadb_check(port, fake_mariadb_client(tmp_path, answer)), healthy, word)


def test_mariadb_that_does_not_answer_is_unhealthy_saying_why(tmp_path: Path) -> None:
    env = fake_mariadb_client(tmp_path, "ERROR 2002 (HY000): Can't connect", exit_code=1)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert_verdict(mariadb_check(port, env), False, "does not answer", "Can't connect")
    # Not even listening: the client is not asked.
    assert_verdict(mariadb_check(free_port(), env), False, "nothing listens")


def test_established_to_any_of_several_ports_counts() -> None:
    """A worker reaches mariadb directly (3306) or through the mariadb-proxy (13306)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        unused = free_port()
        assert_verdict(healthcheck("established", str(unused), str(port)), False,
                       f"remote port {unused} or {port}")
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()
            with accepted:
                assert_verdict(healthcheck("established", str(unused), str(port)), True,
                               f"port {port}")
