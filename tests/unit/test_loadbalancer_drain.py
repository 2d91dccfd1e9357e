"""Draining a backend from the rendered nginx.conf before a planned restart
(telemetry.common.loadbalancer, used by the telemetry_lb_backend module)."""

from __future__ import annotations

from telemetry.common.loadbalancer import drain

CONFIG = """\
http {
    upstream gnocchi_lb {
        server 10.0.0.11:8041 max_fails=1 fail_timeout=10s;
        server 10.0.0.12:8041 max_fails=1 fail_timeout=10s;
        server 10.0.0.11:8041 backup max_fails=0;
        server 10.0.0.12:8041 backup max_fails=0;
    }

    server {
        listen 10.0.0.10:18041;
        location / {
            proxy_pass http://gnocchi_lb;
        }
    }
    upstream keystone_lb {
        server 10.0.0.11:5000 max_fails=1 fail_timeout=10s;
    }
}
"""


def _server_lines(config: str, address: str) -> list[str]:
    return [line.strip() for line in config.splitlines()
            if line.strip().startswith(f"server {address} ")]


def test_a_drained_backend_is_down_on_every_line_and_the_others_are_untouched() -> None:
    plan = drain(CONFIG, ["10.0.0.12:8041"])
    assert plan.drained == {"10.0.0.12:8041": ["gnocchi_lb"]}
    assert _server_lines(plan.config, "10.0.0.12:8041") == [
        "server 10.0.0.12:8041 max_fails=1 fail_timeout=10s down;",
        "server 10.0.0.12:8041 backup max_fails=0 down;"]
    assert _server_lines(plan.config, "10.0.0.11:8041") == _server_lines(CONFIG, "10.0.0.11:8041")
    untouched = [line for line in CONFIG.splitlines() if "10.0.0.12:8041" not in line]
    assert [line for line in plan.config.splitlines() if "10.0.0.12:8041" not in line] == untouched


def test_the_last_server_in_service_stays_in_saying_why() -> None:
    plan = drain(CONFIG, ["10.0.0.11:8041", "10.0.0.12:8041"])
    assert plan.drained == {"10.0.0.11:8041": ["gnocchi_lb"]}
    assert "only server of upstream gnocchi_lb" in plan.kept["10.0.0.12:8041"]
    assert not any(line.endswith("down;") for line in _server_lines(plan.config, "10.0.0.12:8041"))

    alone = drain(CONFIG, ["10.0.0.11:5000"])
    assert alone.drained == {} and "keystone_lb" in alone.kept["10.0.0.11:5000"]
    assert alone.config == CONFIG


def test_nothing_drained_gives_back_the_rendered_config() -> None:
    assert drain(CONFIG, []).config == CONFIG
    unknown = drain(CONFIG, ["10.9.9.9:8041"])
    assert unknown.config == CONFIG and not unknown.drained and not unknown.kept


def test_draining_twice_marks_once() -> None:
    once = drain(CONFIG, ["10.0.0.12:8041"]).config
    assert drain(once, ["10.0.0.12:8041"]).config == once


SINGLE_WRITER = """\
stream {
    upstream mariadb {
        server 10.0.0.11:3306 max_fails=1 fail_timeout=10s;
        server 10.0.0.12:3306 max_fails=1 fail_timeout=10s backup;
        server 10.0.0.13:3306 max_fails=1 fail_timeout=10s backup;
    }
}
"""


def test_draining_the_single_writer_hands_its_connections_to_a_backup() -> None:
    plan = drain(SINGLE_WRITER, ["10.0.0.11:3306"])
    assert plan.drained == {"10.0.0.11:3306": ["mariadb"]}
    assert _server_lines(plan.config, "10.0.0.11:3306") == [
        "server 10.0.0.11:3306 max_fails=1 fail_timeout=10s down;"]
    assert _server_lines(plan.config, "10.0.0.12:3306") == _server_lines(
        SINGLE_WRITER, "10.0.0.12:3306")


def test_a_backup_gets_no_connections_so_it_is_not_drained() -> None:
    plan = drain(SINGLE_WRITER, ["10.0.0.12:3306"])
    assert plan.drained == {} and plan.kept == {} and plan.config == SINGLE_WRITER
