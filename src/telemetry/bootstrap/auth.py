"""Section `auth`: how the tasks that talk to OpenStack APIs authenticate against keystone.

Spec::

    auth:
      auth_url: http://keystone:5000/v3   # required; /v3 is appended when missing
      username: admin                     # default admin
      password: ...                       # required
      project_name: admin                 # default admin
      user_domain_id: default             # default "default" (or user_domain_name)
      project_domain_id: default          # default "default" (or project_domain_name)
      region_name: RegionOne              # for catalog look-ups (optional)
      cacert: /path/ca.pem                # optional; insecure: true skips TLS checks
      wait_timeout: 120                   # seconds to wait for keystone to answer
      wait_interval: 3

One keystoneauth1 session carries the token for every request of a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telemetry.bootstrap.errors import TaskError
from telemetry.bootstrap.retry import Progress, Wait, describe, no_progress, retry
from telemetry.bootstrap.spec import Section

KNOWN = {"auth_url", "username", "password", "project_name", "user_domain_id",
         "user_domain_name", "project_domain_id", "project_domain_name", "region_name",
         "cacert", "insecure", "wait_timeout", "wait_interval", "request_timeout"}


@dataclass(frozen=True)
class AuthSpec:
    auth_url: str
    username: str
    password: str = field(repr=False)
    project_name: str = "admin"
    user_domain_id: str | None = "default"
    user_domain_name: str | None = None
    project_domain_id: str | None = "default"
    project_domain_name: str | None = None
    region_name: str | None = None
    cacert: str | None = None
    insecure: bool = False
    wait: Wait = field(default_factory=lambda: Wait(timeout=120.0, interval=3.0))
    request_timeout: float = 30.0

    @property
    def identity_url(self) -> str:
        """auth_url ending in /v3: where keystoneclient is pointed (no catalog needed)."""
        url = self.auth_url.rstrip("/")
        return url if url.endswith("/v3") else f"{url}/v3"


def parse_auth(root: Section) -> AuthSpec:
    section = root.section("auth")
    section.reject_unknown(KNOWN)
    user_domain_name = section.text("user_domain_name", None)
    project_domain_name = section.text("project_domain_name", None)
    return AuthSpec(
        auth_url=section.text("auth_url"),
        username=section.text("username", "admin"),
        password=section.text("password"),
        project_name=section.text("project_name", "admin"),
        user_domain_id=section.text("user_domain_id", None if user_domain_name else "default"),
        user_domain_name=user_domain_name,
        project_domain_id=section.text("project_domain_id",
                                       None if project_domain_name else "default"),
        project_domain_name=project_domain_name,
        region_name=section.text("region_name", None),
        cacert=section.text("cacert", None),
        insecure=section.flag("insecure", False),
        wait=Wait(timeout=section.number("wait_timeout", 120.0),
                  interval=section.number("wait_interval", 3.0)),
        request_timeout=section.number("request_timeout", 30.0, minimum=1.0))


def make_session(auth: AuthSpec) -> Any:
    """A keystoneauth1 session authenticating with the admin's password (no request yet)."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    plugin = v3.Password(auth_url=auth.identity_url, username=auth.username,
                         password=auth.password, project_name=auth.project_name,
                         user_domain_id=auth.user_domain_id,
                         user_domain_name=auth.user_domain_name,
                         project_domain_id=auth.project_domain_id,
                         project_domain_name=auth.project_domain_name)
    verify: bool | str = False if auth.insecure else (auth.cacert or True)
    return session.Session(auth=plugin, verify=verify, timeout=auth.request_timeout)


def is_unavailable(exc: Exception) -> bool:
    """Errors that mean "not answering (yet)": connection failures and 5xx answers."""
    from keystoneauth1 import exceptions as ks

    if isinstance(exc, ks.SSLError):
        return False
    return isinstance(exc, ks.ConnectionError | ks.HttpServerError)


def authenticate(sess: Any, auth: AuthSpec, progress: Progress = no_progress) -> None:
    """Get the admin token, waiting (bounded) while keystone does not answer."""
    from keystoneauth1 import exceptions as ks

    try:
        retry(lambda: sess.get_token(), what=f"keystone at {auth.identity_url}",
              wait=auth.wait, retriable=is_unavailable, progress=progress)
    except ks.Unauthorized:
        raise TaskError(f"keystone at {auth.identity_url} refused the credentials of user "
                        f"{auth.username} on project {auth.project_name} (401)") from None
    except ks.ClientException as exc:
        raise TaskError(f"authenticating to keystone at {auth.identity_url} failed: "
                        f"{describe(exc)}") from None
