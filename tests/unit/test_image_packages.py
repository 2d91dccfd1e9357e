"""Reading what images carry and what apt says is pending (no engine)."""

from __future__ import annotations

from telemetry.image.packages import (
    PendingUpdate,
    parse_packages,
    parse_simulation,
    with_descendants,
)

SIMULATION = """\
Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  libc6 memcached
2 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian-Security:12/stable-security [amd64])
Inst memcached [1.6.18-1] (1.6.18-1+deb12u1 Debian:12.8/stable [amd64])
Conf libc6 (2.36-9+deb12u7 Debian-Security:12/stable-security [amd64])
"""


def test_pending_updates_are_read_with_security_marked() -> None:
    assert parse_simulation(SIMULATION) == [
        PendingUpdate("libc6", "2.36-9+deb12u4", "2.36-9+deb12u7", security=True),
        PendingUpdate("memcached", "1.6.18-1", "1.6.18-1+deb12u1", security=False)]


def test_an_up_to_date_image_has_nothing_pending() -> None:
    assert parse_simulation("0 upgraded, 0 newly installed, 0 to remove\n") == []


def test_the_package_list_an_image_carries() -> None:
    packages = parse_packages("libc6\t2.36-9+deb12u7\nredis-server\t5:7.0.15-1~deb12u1\n\n")
    assert [(p.name, p.version) for p in packages] == [("libc6", "2.36-9+deb12u7"),
                                                       ("redis-server", "5:7.0.15-1~deb12u1")]


def test_a_stale_image_takes_its_children_along_and_nothing_else() -> None:
    parents = {"base": None, "openstack-base": "base", "gnocchi-base": "openstack-base",
               "gnocchi-api": "gnocchi-base", "gnocchi-metricd": "gnocchi-base",
               "keystone": "openstack-base", "redis": "base"}
    assert with_descendants(["gnocchi-base"], parents) == {"gnocchi-base", "gnocchi-api",
                                                           "gnocchi-metricd"}
    assert with_descendants(["redis", "keystone"], parents) == {"redis", "keystone"}
    assert with_descendants([], parents) == set()
