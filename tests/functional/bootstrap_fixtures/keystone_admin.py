"""Look at (or damage) keystone through its API, independently of telemetry.bootstrap.

Run inside the toolbox image by tests/functional/test_bootstrap.py:
    python3 keystone_admin.py SPEC inspect          one JSON object on stdout
    python3 keystone_admin.py SPEC revoke USER ROLE remove USER's ROLE on project service
"""

import json
import sys

import yaml
from keystoneauth1 import exceptions, session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client


def main() -> None:
    with open(sys.argv[1]) as stream:
        spec = yaml.safe_load(stream)
    auth = spec["auth"]
    url = auth["auth_url"].rstrip("/")
    url = url if url.endswith("/v3") else url + "/v3"
    sess = session.Session(auth=v3.Password(
        auth_url=url, username="admin", password=auth["password"], project_name="admin",
        user_domain_id="default", project_domain_id="default"))
    ks = client.Client(session=sess, endpoint_override=url)
    projects = ks.projects.list(name="service", domain="default")
    if sys.argv[2] == "revoke":
        user = ks.users.list(name=sys.argv[3], domain="default")[0]
        role = ks.roles.list(name=sys.argv[4])[0]
        ks.roles.revoke(role, user=user, project=projects[0])
        return
    roles = {r.id: r.name for r in ks.roles.list()}
    users = {u.id: u.name for u in ks.users.list(domain="default")}
    on_service: dict[str, list[str]] = {}
    for assignment in ks.role_assignments.list(project=projects[0]) if projects else []:
        if hasattr(assignment, "user"):
            name = users.get(assignment.user["id"], assignment.user["id"])
            on_service.setdefault(name, []).append(roles[assignment.role["id"]])
    services: dict[str, list[dict]] = {}
    for service in ks.services.list():
        endpoints = sorted([e.interface, e.region_id, e.url]
                           for e in ks.endpoints.list(service=service))
        services.setdefault(service.name, []).append(
            {"type": service.type, "description": getattr(service, "description", ""),
             "endpoints": endpoints})
    # A token scoped to project service with each service user's password: what a service
    # does at startup (the seeds' FAQ failure was a user without a role there).
    scoped_login = {}
    for user in spec["keystone"]["users"]:
        plugin = v3.Password(auth_url=url, username=user["name"], password=user["password"],
                             project_name="service", user_domain_id="default",
                             project_domain_id="default")
        try:
            plugin.get_access(session.Session())
            scoped_login[user["name"]] = True
        except exceptions.Unauthorized:
            scoped_login[user["name"]] = False
    print(json.dumps({"service_projects": len(projects), "roles_on_service": on_service,
                      "services": services, "scoped_login": scoped_login}))


if __name__ == "__main__":
    main()
