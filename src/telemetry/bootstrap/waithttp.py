"""Task `wait-http`: wait (bounded) until a URL answers with a status below 500.

Spec (section ``wait_http``; or ``--url`` on the command line instead of a spec)::

    wait_http:
      url: http://gnocchi-api:8041/   # required
      timeout: 300                    # seconds in all (default 300)
      interval: 2                     # seconds between attempts (default 2)
      request_timeout: 5              # seconds per attempt (default 5)
      insecure: false                 # skip TLS verification
      cacert: /path/ca.pem            # optional CA bundle

Any HTTP answer below 500 (401 and 404 included) proves the service is up. Redirects are not
followed. Stdlib only.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from telemetry.bootstrap.errors import SpecError, TaskError
from telemetry.bootstrap.report import Action, TaskResult
from telemetry.bootstrap.retry import Progress, Wait, no_progress, redact_url, retry
from telemetry.bootstrap.spec import Section

TASK = "wait-http"


@dataclass(frozen=True)
class WaitHttpSpec:
    url: str
    wait: Wait = field(default_factory=lambda: Wait(timeout=300.0, interval=2.0))
    request_timeout: float = 5.0
    insecure: bool = False
    cacert: str | None = None


def parse_spec(root: Section) -> WaitHttpSpec:
    section = root.section("wait_http")
    section.reject_unknown({"url", "timeout", "interval", "request_timeout", "insecure",
                            "cacert"})
    url = section.text("url")
    check_url(url, f"{section.path}.url")
    return WaitHttpSpec(url=url,
                        wait=Wait(timeout=section.number("timeout", 300.0),
                                  interval=section.number("interval", 2.0)),
                        request_timeout=section.number("request_timeout", 5.0, minimum=0.1),
                        insecure=section.flag("insecure", False),
                        cacert=section.text("cacert", None))


def check_url(url: str, field_name: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise SpecError(f"spec field {field_name} must be an http:// or https:// URL")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class _ServerError(Exception):
    pass


def probe(spec: WaitHttpSpec) -> int:
    """One attempt: the status code (< 500), or raise (connection error, _ServerError)."""
    context = None
    if spec.url.startswith("https://"):
        context = ssl.create_default_context(cafile=spec.cacert)
        if spec.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(spec.url, method="GET",
                                     headers={"User-Agent": "telemetry-bootstrap"})
    try:
        with opener.open(request, timeout=spec.request_timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):  # not worth retrying
            raise TaskError(f"{redact_url(spec.url)}: TLS verification failed: "
                            f"{exc.reason.verify_message}") from None
        raise
    if status >= 500:
        raise _ServerError(f"HTTP {status}")
    return status


def _retriable(exc: Exception) -> bool:
    return isinstance(exc, _ServerError | urllib.error.URLError | OSError
                      | http.client.HTTPException)


def ensure(spec: WaitHttpSpec, progress: Progress = no_progress) -> TaskResult:
    shown = redact_url(spec.url)
    status = retry(lambda: probe(spec), what=shown, wait=spec.wait, retriable=_retriable,
                   progress=progress)
    result = TaskResult(TASK)
    result.add("url", shown, Action.UNCHANGED, f"answered HTTP {status}")
    return result


def run(root: Section, progress: Progress = no_progress) -> TaskResult:
    return ensure(parse_spec(root), progress)
