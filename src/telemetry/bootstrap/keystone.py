"""Task `keystone`: service project, roles, service users and the catalog, in one process.

Needs the ``auth`` section (see telemetry.bootstrap.auth) and::

    keystone:
      domain_id: default          # domain of the service project and users (default "default")
      service_project: service    # default service
      admin_role: admin           # default admin
      region: RegionOne           # default region of the endpoints (default RegionOne)
      users:
        - {name: gnocchi, password: ...}            # roles: [admin] by default
      services:
        - name: gnocchi
          type: metric
          description: OpenStack Metric Service     # optional
          region: RegionOne                         # optional, overrides keystone.region
          endpoints:
            public: http://203.0.113.10:8041
            internal: http://gnocchi-api:8041
            admin: http://gnocchi-api:8041

Every user gets its roles on the service project (a user without a role there is the classic
"not in the service project" failure of the seeds' FAQ). Each service ends with exactly one
endpoint per interface in its region: a changed URL is updated in place, duplicates are
deleted. A user's password is checked by authenticating as that user; it is updated only when
that fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telemetry.bootstrap.auth import (
    AuthSpec,
    authenticate,
    is_unavailable,
    make_session,
    parse_auth,
)
from telemetry.bootstrap.errors import SpecError, TaskError, scrub
from telemetry.bootstrap.report import Action, TaskResult
from telemetry.bootstrap.retry import Progress, describe, no_progress
from telemetry.bootstrap.spec import Section

TASK = "keystone"
INTERFACES = ("public", "internal", "admin")


@dataclass(frozen=True)
class ServiceUser:
    name: str
    password: str = field(repr=False)
    roles: tuple[str, ...] = ("admin",)


@dataclass(frozen=True)
class CatalogService:
    name: str
    type: str
    description: str
    region: str
    endpoints: dict[str, str]  # interface -> URL


@dataclass(frozen=True)
class KeystoneSpec:
    auth: AuthSpec
    domain_id: str = "default"
    service_project: str = "service"
    admin_role: str = "admin"
    users: tuple[ServiceUser, ...] = ()
    services: tuple[CatalogService, ...] = ()

    @property
    def secrets(self) -> list[str]:
        return [self.auth.password, *(u.password for u in self.users)]


def parse_spec(root: Section) -> KeystoneSpec:
    auth = parse_auth(root)
    section = root.section("keystone")
    section.reject_unknown({"domain_id", "service_project", "admin_role", "region", "users",
                            "services"})
    admin_role = section.name("admin_role", "admin")
    region = section.name("region", "RegionOne")
    users: list[ServiceUser] = []
    for item in section.sections("users", []):
        item.reject_unknown({"name", "password", "roles"})
        user = ServiceUser(name=item.text("name"), password=item.text("password"),
                           roles=tuple(item.str_list("roles", [admin_role])))
        if any(u.name == user.name for u in users):
            raise SpecError(f"spec field {item.path}.name: user {user.name} is listed twice")
        users.append(user)
    services: list[CatalogService] = []
    for item in section.sections("services", []):
        item.reject_unknown({"name", "type", "description", "region", "endpoints"})
        endpoints = item.section("endpoints")
        endpoints.reject_unknown(INTERFACES)
        service = CatalogService(
            name=item.text("name"), type=item.text("type"),
            description=item.text("description", ""), region=item.name("region", region),
            endpoints={i: endpoints.text(i) for i in INTERFACES})
        if any((s.name, s.type) == (service.name, service.type) for s in services):
            raise SpecError(f"spec field {item.path}: service {service.name} ({service.type}) "
                            "is listed twice")
        services.append(service)
    return KeystoneSpec(auth=auth, domain_id=section.text("domain_id", "default"),
                        service_project=section.text("service_project", "service"),
                        admin_role=admin_role, users=tuple(users), services=tuple(services))


class Registrar:
    """Converges keystone to a KeystoneSpec through one keystoneclient (one token).

    Each collection is listed once up front (keystone validates the token on every request,
    which costs a third of a second on a small host), then compared locally.
    """

    def __init__(self, spec: KeystoneSpec, client: Any, sess: Any, result: TaskResult) -> None:
        self.spec = spec
        self.client = client
        self.session = sess
        self.result = result
        self._roles: dict[str, Any] | None = None
        self._regions: set[str] | None = None
        self._reported_roles: set[str] = set()

    # --- project and roles -------------------------------------------------------------

    def ensure_project(self) -> Any:
        name, domain = self.spec.service_project, self.spec.domain_id
        found = self.client.projects.list(name=name, domain=domain)
        if found:
            project = found[0]
            if not getattr(project, "enabled", True):
                project = self.client.projects.update(project, enabled=True)
                self.result.add("project", name, Action.UPDATED, "enabled")
            else:
                self.result.add("project", name, Action.UNCHANGED)
            return project
        project = self.client.projects.create(name=name, domain=domain,
                                              description="Service project")
        self.result.add("project", name, Action.CREATED)
        return project

    def ensure_role(self, name: str) -> Any:
        if self._roles is None:
            self._roles = {r.name: r for r in self.client.roles.list()
                           if getattr(r, "domain_id", None) is None}
        role = self._roles.get(name)
        if role is None:
            role = self._roles[name] = self.client.roles.create(name=name)
            self.result.add("role", name, Action.CREATED)
        elif name not in self._reported_roles:
            self.result.add("role", name, Action.UNCHANGED)
        self._reported_roles.add(name)
        return role

    # --- users -------------------------------------------------------------------------

    def _password_works(self, user: ServiceUser) -> bool:
        """Authenticate as the user (unscoped): the only way to compare a password."""
        from keystoneauth1 import exceptions as ks
        from keystoneauth1.identity import v3

        plugin = v3.Password(auth_url=self.spec.auth.identity_url, username=user.name,
                             password=user.password, user_domain_id=self.spec.domain_id,
                             unscoped=True)
        try:
            plugin.get_token(self.session)
        except ks.Unauthorized:
            return False
        return True

    def ensure_users(self, project: Any) -> None:
        if not self.spec.users:
            return
        accounts = {u.name: u for u in self.client.users.list(domain=self.spec.domain_id)}
        granted = {(a.user["id"], a.role["id"])
                   for a in self.client.role_assignments.list(project=project)
                   if hasattr(a, "user")}
        for user in self.spec.users:
            account = self.ensure_user(user, accounts.get(user.name))
            for role_name in user.roles:
                role = self.ensure_role(role_name)
                assignment = f"{role_name} to {user.name} on project {project.name}"
                if (account.id, role.id) in granted:
                    self.result.add("role assignment", assignment, Action.UNCHANGED)
                else:
                    self.client.roles.grant(role, user=account, project=project)
                    self.result.add("role assignment", assignment, Action.CREATED)
            self.revoke_admin(user, account, project, granted)

    def revoke_admin(self, user: ServiceUser, account: Any, project: Any,
                     granted: set[tuple[str, str]]) -> None:
        """A service user whose spec no longer lists the admin role (keystone's `service`
        role instead) stops holding it; other roles an operator granted are left alone."""
        if self.spec.admin_role in user.roles:
            return
        admin = self.ensure_role(self.spec.admin_role)
        if (account.id, admin.id) in granted:
            self.client.roles.revoke(admin, user=account, project=project)
            self.result.add("role assignment",
                            f"{self.spec.admin_role} to {user.name} on project {project.name}",
                            Action.DELETED)

    def ensure_user(self, user: ServiceUser, account: Any) -> Any:
        if account is None:
            account = self.client.users.create(name=user.name, domain=self.spec.domain_id,
                                               password=user.password, enabled=True)
            self.result.add("user", user.name, Action.CREATED)
            return account
        fixes: dict[str, Any] = {}
        if not getattr(account, "enabled", True):
            fixes["enabled"] = True
        if fixes or not self._password_works(user):
            fixes["password"] = user.password
        if not fixes:
            self.result.add("user", user.name, Action.UNCHANGED)
            return account
        account = self.client.users.update(account, **fixes)
        what = " and ".join("enabled" if k == "enabled" else "password changed"
                            for k in sorted(fixes))
        self.result.add("user", user.name, Action.UPDATED, what)
        return account

    # --- catalog -----------------------------------------------------------------------

    def ensure_region(self, region: str) -> None:
        if self._regions is None:
            self._regions = {r.id for r in self.client.regions.list()}
        if region not in self._regions:
            self.client.regions.create(id=region)
            self._regions.add(region)
            self.result.add("region", region, Action.CREATED)

    def ensure_service(self, wanted: CatalogService, services: list[Any]) -> Any:
        label = f"{wanted.name} ({wanted.type})"
        found = [s for s in services
                 if s.type == wanted.type and getattr(s, "name", None) == wanted.name]
        if not found:
            service = self.client.services.create(name=wanted.name, type=wanted.type,
                                                  description=wanted.description,
                                                  enabled=True)
            self.result.add("service", label, Action.CREATED)
            return service
        service = found[0]
        extra = f"{len(found) - 1} more service(s) of that name and type left alone" \
            if len(found) > 1 else ""
        fixes: dict[str, Any] = {}
        if (getattr(service, "description", "") or "") != wanted.description:
            fixes["description"] = wanted.description
        if not getattr(service, "enabled", True):
            fixes["enabled"] = True
        if fixes:
            service = self.client.services.update(service, **fixes)
            detail = ", ".join(sorted(fixes)) + (f"; {extra}" if extra else "")
            self.result.add("service", label, Action.UPDATED, detail)
        else:
            self.result.add("service", label, Action.UNCHANGED, extra)
        return service

    def ensure_endpoints(self, wanted: CatalogService, service: Any,
                         existing: list[Any]) -> None:
        self.ensure_region(wanted.region)
        for interface in INTERFACES:
            url = wanted.endpoints[interface]
            label = f"{wanted.name} {interface} {wanted.region}"
            matching = [e for e in existing if e.service_id == service.id
                        and e.interface == interface
                        and getattr(e, "region_id", None) == wanted.region]
            if not matching:
                self.client.endpoints.create(service=service, url=url, interface=interface,
                                             region=wanted.region, enabled=True)
                self.result.add("endpoint", label, Action.CREATED, url)
                continue
            # Keep the one already at the right URL if there is one; delete the others.
            matching.sort(key=lambda e: e.url != url)
            keep, duplicates = matching[0], matching[1:]
            for duplicate in duplicates:
                self.client.endpoints.delete(duplicate)
                self.result.add("endpoint", label, Action.DELETED,
                                f"duplicate {duplicate.id} ({duplicate.url})")
            if keep.url != url or not getattr(keep, "enabled", True):
                self.client.endpoints.update(keep, url=url, enabled=True)
                self.result.add("endpoint", label, Action.UPDATED, f"{keep.url} -> {url}"
                                if keep.url != url else "enabled")
            else:
                self.result.add("endpoint", label, Action.UNCHANGED, url)

    def run(self) -> None:
        project = self.ensure_project()
        self.ensure_role(self.spec.admin_role)
        self.ensure_users(project)
        if self.spec.services:
            services = self.client.services.list()
            endpoints = self.client.endpoints.list()
            for wanted in self.spec.services:
                service = self.ensure_service(wanted, services)
                self.ensure_endpoints(wanted, service, endpoints)


def ensure(spec: KeystoneSpec, progress: Progress = no_progress) -> TaskResult:
    """Authenticate (waiting for keystone, bounded) and converge everything in the spec."""
    from keystoneauth1 import exceptions as ks
    from keystoneclient.v3 import client as v3client

    result = TaskResult(TASK)
    sess = make_session(spec.auth)
    authenticate(sess, spec.auth, progress)
    client = v3client.Client(session=sess, endpoint_override=spec.auth.identity_url,
                             region_name=spec.auth.region_name)
    try:
        Registrar(spec, client, sess, result).run()
    except ks.ClientException as exc:
        kind = "did not answer" if is_unavailable(exc) else "refused a request"
        raise TaskError(scrub(f"keystone at {spec.auth.identity_url} {kind}: {describe(exc)}",
                              spec.secrets), partial=result) from None
    return result


def run(root: Section, progress: Progress = no_progress) -> TaskResult:
    return ensure(parse_spec(root), progress)
