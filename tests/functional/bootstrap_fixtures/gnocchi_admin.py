"""Read gnocchi's archive policies and rules through its API, as the keystone admin.

Run inside the toolbox image by tests/functional/test_bootstrap.py:
    python3 gnocchi_admin.py SPEC GNOCCHI_URL      one JSON object on stdout
"""

import json
import sys

import yaml
from keystoneauth1 import session
from keystoneauth1.identity import v3


def main() -> None:
    with open(sys.argv[1]) as stream:
        spec = yaml.safe_load(stream)
    auth = spec["auth"]
    url = auth["auth_url"].rstrip("/")
    url = url if url.endswith("/v3") else url + "/v3"
    sess = session.Session(auth=v3.Password(
        auth_url=url, username="admin", password=auth["password"], project_name="admin",
        user_domain_id="default", project_domain_id="default"))
    base = sys.argv[2].rstrip("/")
    policies = sess.get(f"{base}/v1/archive_policy").json()
    rules = sess.get(f"{base}/v1/archive_policy_rule").json()
    print(json.dumps({"policies": {p["name"]: p for p in policies},
                      "rules": {r["name"]: r for r in rules}}))


if __name__ == "__main__":
    main()
