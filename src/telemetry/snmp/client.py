"""A small SNMP v2c client over pysnmp 4.4 (Debian 12's python3-pysnmp4): GET and bulk walks.

Numeric OIDs in, plain Python values out (int, str), so the rest of the package never touches
pysnmp types. Every failure becomes `SnmpError` with a message that names the agent by its
community-free URL. One pysnmp engine per thread: ceilometer may poll from several threads and a
pysnmp engine is not thread-safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pyasn1.type import univ
from pysnmp.error import PySnmpError
from pysnmp.hlapi import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    bulkCmd,
    getCmd,
)

from telemetry.snmp.oids import Oid
from telemetry.snmp.target import SnmpTarget

Value = int | str | bytes | Oid | None


class SnmpError(Exception):
    """The agent did not answer usably (down, unreachable, wrong community, error status)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class ClientSettings:
    """How long to wait for an agent: timeout seconds per try, retries after the first try."""

    timeout: float = 2.0
    retries: int = 1
    max_repetitions: int = 24


_local = threading.local()


def _engine() -> SnmpEngine:
    """This thread's engine, whose outgoing PDUs are counted in `_local.sent`."""
    engine = getattr(_local, "engine", None)
    if engine is None:
        engine = _local.engine = SnmpEngine()
        _local.sent = 0
        dispatcher = engine.msgAndPduDsp
        send_pdu = dispatcher.sendPdu

        def counting_send_pdu(*args: object, **kwargs: object) -> object:
            _local.sent += 1
            return send_pdu(*args, **kwargs)

        dispatcher.sendPdu = counting_send_pdu
    return engine


def _sent() -> int:
    _engine()
    return _local.sent


def _plain(value: object) -> Value:
    """pysnmp value -> int / str / bytes / OID tuple; None for noSuch*/endOfMibView (Null)."""
    if isinstance(value, univ.Null):
        return None
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    if isinstance(value, univ.Integer):
        return int(value)
    if isinstance(value, univ.OctetString):
        return value.asOctets()
    return str(value)


class SnmpClient:
    """GETs and bulk walks against one agent, each call a self-contained exchange."""

    def __init__(self, target: SnmpTarget, settings: ClientSettings | None = None) -> None:
        self.target = target
        self.settings = settings or ClientSettings()
        # SNMP requests sent so far, retries included.
        self.requests = 0
        self._auth = CommunityData(target.community, mpModel=1)  # v2c
        transport = Udp6TransportTarget if ":" in target.host else UdpTransportTarget
        try:
            self._transport = transport(
                (target.host, target.port),
                timeout=self.settings.timeout,
                retries=self.settings.retries,
            )
        except PySnmpError as err:
            raise SnmpError(target.url, f"cannot resolve host: {err}") from None

    def _fail(self, what: str) -> SnmpError:
        return SnmpError(self.target.url, what)

    def get(self, oids: list[Oid]) -> dict[Oid, Value]:
        """One GET request for all `oids`; absent objects map to None."""
        sent = _sent()
        var_binds = [ObjectType(ObjectIdentity(".".join(map(str, o)))) for o in oids]
        try:
            error_indication, error_status, error_index, answer = next(
                getCmd(_engine(), self._auth, self._transport, ContextData(), *var_binds,
                       lookupMib=False))
        except PySnmpError as err:
            raise self._fail(str(err)) from None
        finally:
            self.requests += _sent() - sent
        if error_indication:
            raise self._fail(str(error_indication))
        if error_status:
            raise self._fail(f"error status {error_status.prettyPrint()} at {error_index}")
        return {tuple(name): _plain(value) for name, value in answer}

    def walk(self, columns: dict[str, Oid]) -> dict[str, dict[Oid, Value]]:
        """Bulk-walk table columns in lock step: {column key: {row index: value}}.

        All columns go in every GetBulk request, so a table of R rows and C columns costs about
        R * C / 100 requests (snmpd's maxGetbulkResponses) instead of R * C GETs.
        """
        keys = list(columns)
        prefixes = [columns[k] for k in keys]
        table: dict[str, dict[Oid, Value]] = {k: {} for k in keys}
        var_binds = [ObjectType(ObjectIdentity(".".join(map(str, p)))) for p in prefixes]
        walker = bulkCmd(_engine(), self._auth, self._transport, ContextData(), 0,
                         self.settings.max_repetitions, *var_binds,
                         lexicographicMode=False, lookupMib=False)
        sent = _sent()
        try:
            for error_indication, error_status, error_index, row in walker:
                if error_indication:
                    raise self._fail(str(error_indication))
                if error_status:
                    raise self._fail(f"error status {error_status.prettyPrint()} at {error_index}")
                for key, prefix, (name, value) in zip(keys, prefixes, row, strict=False):
                    oid = tuple(name)
                    if oid[: len(prefix)] != prefix or isinstance(value, univ.Null):
                        continue
                    table[key][oid[len(prefix):]] = _plain(value)
        except PySnmpError as err:
            raise self._fail(str(err)) from None
        finally:
            self.requests += _sent() - sent
        return table
