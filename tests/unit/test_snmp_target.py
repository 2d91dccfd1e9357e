"""snmp:// resource parsing: the community is read from the URL and never shown."""

from __future__ import annotations

import pytest

from telemetry.snmp.target import SnmpTarget, TargetError, parse_target


def test_community_host_and_default_port() -> None:
    target = parse_target("snmp://s3cret@10.0.0.5")
    assert target == SnmpTarget("10.0.0.5", 161, "s3cret")
    assert target.host_id == "10.0.0.5"
    assert target.url == "snmp://10.0.0.5"


def test_port_kept_only_when_not_161() -> None:
    assert parse_target("snmp://c@127.0.0.1:1161").host_id == "127.0.0.1:1161"
    assert parse_target("snmp://c@127.0.0.1:161").host_id == "127.0.0.1"


def test_percent_encoded_community_with_colon_slash_and_at() -> None:
    # What polling.yaml.j2 writes: community | urlencode | replace('/', '%2F').
    target = parse_target("snmp://a%3Ab%2Fc%40d%25@host.example:1161")
    assert target.community == "a:b/c@d%"
    assert (target.host, target.port) == ("host.example", 1161)


def test_ipv6_host() -> None:
    target = parse_target("snmp://c@[::1]:1161")
    assert target.host == "::1"
    assert target.url == "snmp://[::1]:1161"


def test_repr_hides_community() -> None:
    assert "s3cret" not in repr(parse_target("snmp://s3cret@10.0.0.5"))


@pytest.mark.parametrize("resource", [
    "snmp://10.0.0.5",  # no community: never fall back to "public"
    "http://s3cret@10.0.0.5",
    "snmp://s3cret@",
    "snmp://s3cret@10.0.0.5:notaport",
])
def test_bad_resources_raise_without_the_community(resource: str) -> None:
    with pytest.raises(TargetError) as err:
        parse_target(resource)
    assert "s3cret" not in str(err.value)
