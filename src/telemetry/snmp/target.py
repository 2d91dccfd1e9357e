"""Parse the `snmp://COMMUNITY@HOST[:PORT]` resources of polling.yaml.

The v2c community travels as the URL's (percent-encoded) user part; it is a secret, so it never
appears in a resource id, in metadata, in `repr` or in a log line: only `url` (scheme, host and a
non-default port) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

DEFAULT_PORT = 161


class TargetError(ValueError):
    """A resource that is not a usable snmp:// URL (the message never holds the community)."""


@dataclass(frozen=True)
class SnmpTarget:
    """One agent to poll: where it is and the community to read it with."""

    host: str
    port: int = DEFAULT_PORT
    community: str = field(default="", repr=False)

    @property
    def host_id(self) -> str:
        """HOST, or HOST:PORT when the port is not 161 (IPv6 bracketed): the resource id base."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORT else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The resource URL without its community, safe to log and to store in gnocchi."""
        return f"snmp://{self.host_id}"


def parse_target(resource: str) -> SnmpTarget:
    """Split a polling.yaml resource into host, port and community.

    The netloc is split on its last '@' by hand (not through urlsplit's username/password) so a
    community holding ':' or an encoded '@' survives.
    """
    parts = urlsplit(resource.strip())
    if parts.scheme != "snmp":
        raise TargetError(f"not an snmp:// resource: {_redact(resource)}")
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or not userinfo:
        raise TargetError(f"no community in {_redact(resource)} (expected snmp://COMMUNITY@HOST)")
    try:
        host_parts = urlsplit(f"//{hostport}")
        host, port = host_parts.hostname, host_parts.port or DEFAULT_PORT
    except ValueError as err:
        raise TargetError(f"bad host or port in {_redact(resource)}: {err}") from None
    if not host:
        raise TargetError(f"no host in {_redact(resource)}")
    return SnmpTarget(host=host, port=port, community=unquote(userinfo))


def _redact(resource: str) -> str:
    """The resource with anything before '@' replaced, for error messages."""
    scheme, sep, rest = resource.partition("://")
    if not sep:
        return "<unparsable resource>"
    netloc, slash, path = rest.partition("/")
    return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{path}"
