"""Task `gnocchi-archive-policies`: archive policies and archive-policy rules in gnocchi.

Needs the ``auth`` section (see telemetry.bootstrap.auth) and::

    gnocchi:
      url: http://gnocchi-api:8041   # optional: else the catalog's `metric` endpoint
      interface: internal            # catalog interface when url is not given
      wait_timeout: 120              # seconds to wait for the gnocchi API to answer
      fail_on_drift: false           # exit 1 when something differs and cannot be changed
      archive_policies:              # default: [horizon-mimic below]
        - name: horizon-mimic
          back_window: 0             # optional (default 0)
          aggregation_methods: [mean, max, min, count, sum, std, rate:mean]
          definition:                # {granularity, points} or {granularity, timespan}
            - {granularity: 1m, points: 30}
            - {granularity: 5m, points: 288}
            - {granularity: 30m, timespan: 7d}
      archive_policy_rules:          # default: [default: "*" -> horizon-mimic]
        - {name: default, metric_pattern: "*", archive_policy_name: horizon-mimic}

Durations are seconds (a number) or strings such as ``90s``, ``1m``, ``5min``, ``2h``,
``1d``, ``1w``, ``0:05:00`` or ``1 day, 0:00:00`` (what gnocchi itself returns).

An existing policy is compared with the spec: a definition whose granularities are the same
but whose points differ is PATCHed (the only change gnocchi allows); other differences
(granularities added or dropped, aggregation methods, back window) are reported as drift,
because gnocchi can only apply them by deleting the policy and the measures stored under it.
A rule holds no data, and gnocchi cannot change its pattern or policy in place: a differing
rule is deleted and created again (``gnocchi-upgrade`` creates ``default`` -> ``low``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from telemetry.bootstrap.auth import (
    AuthSpec,
    authenticate,
    is_unavailable,
    make_session,
    parse_auth,
)
from telemetry.bootstrap.errors import DriftError, SpecError, TaskError, scrub
from telemetry.bootstrap.report import Action, TaskResult
from telemetry.bootstrap.retry import Progress, Wait, describe, no_progress, retry
from telemetry.bootstrap.spec import Section

TASK = "gnocchi-archive-policies"

HORIZON_MIMIC: dict[str, Any] = {
    "name": "horizon-mimic",
    "back_window": 0,
    "aggregation_methods": ["mean", "max", "min", "count", "sum", "std", "rate:mean"],
    "definition": [
        {"granularity": "1m", "points": 30},
        {"granularity": "5m", "points": 288},
        {"granularity": "30m", "points": 336},
        {"granularity": "2h", "points": 360},
        {"granularity": "1d", "points": 365},
    ],
}
DEFAULT_RULE: dict[str, Any] = {"name": "default", "metric_pattern": "*",
                                "archive_policy_name": "horizon-mimic"}

_UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
          "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
          "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
          "d": 86400, "day": 86400, "days": 86400,
          "w": 604800, "week": 604800, "weeks": 604800}
_UNIT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_CLOCK_RE = re.compile(r"(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def parse_duration(value: Any, path: str = "duration") -> float:
    """Seconds from a number or a string like 5m, 2h, 1d, 0:05:00, 365 days, 0:00:00."""
    if isinstance(value, bool):
        raise SpecError(f"spec field {path} must be a duration, not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        clock = _CLOCK_RE.fullmatch(text)
        if clock:
            days, hours, minutes, secs = clock.groups()
            seconds = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 \
                + float(secs)
        else:
            try:
                seconds = float(text)
            except ValueError:
                parts = _UNIT_RE.findall(text)
                if not parts or _UNIT_RE.sub("", text).strip(" ,") \
                        or any(unit not in _UNITS for _, unit in parts):
                    raise SpecError(f"spec field {path} is not a duration (examples: 300, "
                                    "5m, 2h, 1d, 0:05:00)") from None
                seconds = sum(float(n) * _UNITS[unit] for n, unit in parts)
    else:
        raise SpecError(f"spec field {path} must be a duration (number or string)")
    if seconds <= 0:
        raise SpecError(f"spec field {path} must be a positive duration")
    return seconds


@dataclass(frozen=True, order=True)
class Granule:
    """One definition entry, normalised: granularity in seconds and a number of points."""

    granularity: float
    points: int

    def as_json(self) -> dict[str, Any]:
        return {"granularity": self.granularity, "points": self.points}

    def __str__(self) -> str:
        return f"{_seconds_text(self.granularity)} x {self.points}"


def _seconds_text(seconds: float) -> str:
    """60 -> 1m, 7200 -> 2h, 86400 -> 1d, 90 -> 90s: the largest unit that divides evenly."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class ArchivePolicy:
    name: str
    definition: tuple[Granule, ...]
    aggregation_methods: tuple[str, ...] | None = None  # None: gnocchi's default
    back_window: int = 0

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "back_window": self.back_window,
                                "definition": [g.as_json() for g in self.definition]}
        if self.aggregation_methods is not None:
            body["aggregation_methods"] = list(self.aggregation_methods)
        return body


@dataclass(frozen=True)
class ArchivePolicyRule:
    name: str
    metric_pattern: str
    archive_policy_name: str


@dataclass(frozen=True)
class GnocchiSpec:
    auth: AuthSpec
    url: str | None = None
    interface: str = "internal"
    wait: Wait = field(default_factory=lambda: Wait(timeout=120.0, interval=3.0))
    fail_on_drift: bool = False
    policies: tuple[ArchivePolicy, ...] = ()
    rules: tuple[ArchivePolicyRule, ...] = ()


def _granule(item: Section) -> Granule:
    item.reject_unknown({"granularity", "points", "timespan"})
    granularity = parse_duration(item.data.get("granularity"), f"{item.path}.granularity") \
        if item.has("granularity") else None
    if granularity is None:
        raise SpecError(f"spec field {item.path}.granularity is missing")
    points = item.integer("points", None, minimum=1)
    if item.has("timespan"):
        timespan = parse_duration(item.data["timespan"], f"{item.path}.timespan")
        from_timespan = timespan / granularity
        if abs(from_timespan - round(from_timespan)) > 1e-9 or round(from_timespan) < 1:
            raise SpecError(f"spec field {item.path}.timespan is not a multiple of granularity")
        if points is not None and points != round(from_timespan):
            raise SpecError(f"spec field {item.path}: points and timespan disagree")
        points = round(from_timespan)
    if points is None:
        raise SpecError(f"spec field {item.path}.points is missing (or give timespan)")
    return Granule(granularity, points)


def _policy(item: Section) -> ArchivePolicy:
    item.reject_unknown({"name", "definition", "aggregation_methods", "back_window"})
    granules = [_granule(g) for g in item.sections("definition")]
    if not granules:
        raise SpecError(f"spec field {item.path}.definition must not be empty")
    if len({g.granularity for g in granules}) != len(granules):
        raise SpecError(f"spec field {item.path}.definition repeats a granularity")
    methods = item.str_list("aggregation_methods", None)
    return ArchivePolicy(name=item.text("name"), definition=tuple(sorted(granules)),
                         aggregation_methods=tuple(methods) if methods is not None else None,
                         back_window=item.integer("back_window", 0))


def parse_spec(root: Section) -> GnocchiSpec:
    auth = parse_auth(root)
    section = root.section("gnocchi", Section({}, "gnocchi"))
    section.reject_unknown({"url", "interface", "wait_timeout", "wait_interval",
                            "fail_on_drift", "archive_policies", "archive_policy_rules"})
    policies = [_policy(p) for p in section.sections(
        "archive_policies", [Section(HORIZON_MIMIC, "gnocchi.archive_policies[0]")])]
    rules = []
    for item in section.sections("archive_policy_rules",
                                 [Section(DEFAULT_RULE, "gnocchi.archive_policy_rules[0]")]):
        item.reject_unknown({"name", "metric_pattern", "archive_policy_name"})
        rules.append(ArchivePolicyRule(name=item.text("name"),
                                       metric_pattern=item.text("metric_pattern"),
                                       archive_policy_name=item.text("archive_policy_name")))
    for kind, names in (("archive policy", [p.name for p in policies]),
                        ("archive policy rule", [r.name for r in rules])):
        if len(set(names)) != len(names):
            raise SpecError(f"spec field gnocchi: an {kind} is listed twice")
    return GnocchiSpec(auth=auth, url=section.text("url", None),
                       interface=section.text("interface", "internal"),
                       wait=Wait(timeout=section.number("wait_timeout", 120.0),
                                 interval=section.number("wait_interval", 3.0)),
                       fail_on_drift=section.flag("fail_on_drift", False),
                       policies=tuple(policies), rules=tuple(rules))


def granules_from_api(definition: list[dict[str, Any]]) -> tuple[Granule, ...]:
    """Normalise a definition as gnocchi returns it ("0:05:00", points, "1 day, 0:00:00")."""
    return tuple(sorted(Granule(parse_duration(d["granularity"], "granularity"),
                                int(d["points"])) for d in definition))


def compare(wanted: ArchivePolicy, current: dict[str, Any]) -> tuple[bool, list[str]]:
    """(needs a PATCH of the definition, differences gnocchi cannot change in place)."""
    have = granules_from_api(current.get("definition", []))
    patch = False
    drift: list[str] = []
    if have != wanted.definition:
        if [g.granularity for g in have] == [g.granularity for g in wanted.definition]:
            patch = True
        else:
            drift.append(f"definition is [{', '.join(map(str, have))}], spec wants "
                         f"[{', '.join(map(str, wanted.definition))}] (granularities differ)")
    methods = wanted.aggregation_methods
    if methods is not None and not any(m.startswith(("*", "-")) for m in methods):
        current_methods = set(current.get("aggregation_methods", []))
        if current_methods != set(methods):
            drift.append(f"aggregation_methods are {sorted(current_methods)}, spec wants "
                         f"{sorted(methods)}")
    if int(current.get("back_window", 0)) != wanted.back_window:
        drift.append(f"back_window is {current.get('back_window')}, spec wants "
                     f"{wanted.back_window}")
    return patch, drift


class GnocchiApi:
    """Plain JSON over the keystoneauth session (the token is added by the session)."""

    def __init__(self, sess: Any, spec: GnocchiSpec) -> None:
        self.session = sess
        self.spec = spec

    @property
    def where(self) -> str:
        return f"gnocchi API at {self.spec.url}" if self.spec.url else \
            f"gnocchi API ({self.spec.interface} metric endpoint)"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        # Gnocchi's DELETE handlers only offer text/html: asking for JSON there gets a 406.
        accept = "*/*" if method == "DELETE" else "application/json"
        kwargs: dict[str, Any] = {"raise_exc": False, "headers": {"Accept": accept}}
        if body is not None:
            kwargs["json"] = body
        if self.spec.url:
            url = self.spec.url.rstrip("/") + path
        else:
            url = path
            kwargs["endpoint_filter"] = {"service_type": "metric",
                                         "interface": self.spec.interface,
                                         "region_name": self.spec.auth.region_name}
        response = self.session.request(url, method, **kwargs)
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = response.text
        return response.status_code, data

    def call(self, method: str, path: str, body: Any = None,
             ok: tuple[int, ...] = (200, 201, 204)) -> tuple[int, Any]:
        status, data = self.request(method, path, body)
        if status >= 500 or (status not in ok and status >= 400 and status not in (404, 409)):
            raise TaskError(f"{self.where}: {method} {path} answered {status}: "
                            f"{_error_text(data)}")
        return status, data


def _error_text(data: Any) -> str:
    if isinstance(data, dict):
        desc = data.get("description", data)
        return describe(Exception(str(desc)))
    return describe(Exception(str(data)))


class _Retry5xx(Exception):
    """Raised inside the wait loop when gnocchi answers 5xx (it may still be starting)."""


def _path(kind: str, name: str) -> str:
    return f"/v1/{kind}/{quote(name, safe='')}"


def ensure_policy(api: GnocchiApi, wanted: ArchivePolicy, result: TaskResult) -> None:
    status, current = api.call("GET", _path("archive_policy", wanted.name))
    if status == 404:
        status, data = api.call("POST", "/v1/archive_policy", wanted.body())
        if status == 409:  # created meanwhile by someone else: compare on the next run
            result.add("archive policy", wanted.name, Action.UNCHANGED, "created concurrently")
        elif status not in (200, 201):
            raise TaskError(f"{api.where}: creating archive policy {wanted.name} answered "
                            f"{status}: {_error_text(data)}")
        else:
            result.add("archive policy", wanted.name, Action.CREATED,
                       ", ".join(map(str, wanted.definition)))
        return
    patch, drift = compare(wanted, current)
    if patch:
        before = ", ".join(map(str, granules_from_api(current["definition"])))
        status, data = api.call("PATCH", _path("archive_policy", wanted.name),
                                {"definition": [g.as_json() for g in wanted.definition]})
        if status not in (200, 201):
            drift.append(f"PATCH of the definition refused ({status}): {_error_text(data)}")
        else:
            result.add("archive policy", wanted.name, Action.UPDATED,
                       f"definition {before} -> {', '.join(map(str, wanted.definition))}")
    for difference in drift:
        result.add("archive policy", wanted.name, Action.DRIFT, difference)
    if not patch and not drift:
        result.add("archive policy", wanted.name, Action.UNCHANGED)


def ensure_rule(api: GnocchiApi, wanted: ArchivePolicyRule, result: TaskResult) -> None:
    path = _path("archive_policy_rule", wanted.name)
    body = {"name": wanted.name, "metric_pattern": wanted.metric_pattern,
            "archive_policy_name": wanted.archive_policy_name}
    label = f"{wanted.name} ({wanted.metric_pattern} -> {wanted.archive_policy_name})"
    status, current = api.call("GET", path)
    action = Action.CREATED
    detail = ""
    if status != 404:
        have = (current.get("metric_pattern"), current.get("archive_policy_name"))
        if have == (wanted.metric_pattern, wanted.archive_policy_name):
            result.add("archive policy rule", label, Action.UNCHANGED)
            return
        api.call("DELETE", path)
        action, detail = Action.REPLACED, f"was {have[0]} -> {have[1]}"
    status, data = api.call("POST", "/v1/archive_policy_rule", body)
    if status not in (200, 201):
        raise TaskError(f"{api.where}: creating archive policy rule {wanted.name} answered "
                        f"{status}: {_error_text(data)}")
    result.add("archive policy rule", label, action, detail)


def _wait_for_api(api: GnocchiApi, progress: Progress) -> None:
    def attempt() -> None:
        status, _ = api.request("GET", "/v1/archive_policy")
        if status >= 500:
            raise _Retry5xx(f"answered {status}")
        if status in (401, 403):
            raise TaskError(f"{api.where} refused the admin token ({status}): check "
                            "auth.project_name and the admin role")

    def retriable(exc: Exception) -> bool:
        return isinstance(exc, _Retry5xx) or is_unavailable(exc)

    retry(attempt, what=api.where, wait=api.spec.wait, retriable=retriable, progress=progress)


def ensure(spec: GnocchiSpec, progress: Progress = no_progress) -> TaskResult:
    """Authenticate, wait for the API (bounded), converge policies first, then rules."""
    from keystoneauth1 import exceptions as ks

    result = TaskResult(TASK)
    sess = make_session(spec.auth)
    authenticate(sess, spec.auth, progress)
    api = GnocchiApi(sess, spec)
    try:
        _wait_for_api(api, progress)
        for policy in spec.policies:
            ensure_policy(api, policy, result)
        for rule in spec.rules:
            ensure_rule(api, rule, result)
    except ks.EndpointNotFound:
        raise TaskError(f"no {spec.interface} endpoint of type metric in the catalog: "
                        "register gnocchi (task keystone) or set gnocchi.url",
                        partial=result) from None
    except ks.ClientException as exc:
        raise TaskError(scrub(f"{api.where}: {describe(exc)}", [spec.auth.password]),
                        partial=result) from None
    except TaskError as exc:
        exc.partial = result
        raise
    if spec.fail_on_drift and result.drift:
        raise DriftError(f"{len(result.drift)} difference(s) gnocchi cannot change in place "
                         "(gnocchi.fail_on_drift is true)", partial=result)
    return result


def run(root: Section, progress: Progress = no_progress) -> TaskResult:
    return ensure(parse_spec(root), progress)
