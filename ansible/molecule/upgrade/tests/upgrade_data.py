"""The data the upgrade scenario writes on Zed and reads back on 2025.1, through the LB.

`python3 upgrade_data.py write STATE` (prepare, on the Zed stack) creates, as a user would:
- a keystone project and a member user with its own password;
- as that user, an archive policy's worth of metrics: three standalone metrics and a generic
  resource with two more, each with MEASURES measures one second apart;
- as that user, an alarm on a third metric of the resource (ALARM_METRIC, horizon-mimic) whose
  action is a webhook on WEBHOOK_PORT, evaluated every 10 s. It watches the user's own metric
  rather than this host's SNMP meters so that what is written before the upgrade does not depend
  on Zed's data path; verify feeds it a fresh measure on 2025.1 and checks the SNMP meters there;
and waits until every measure is readable, then writes what it made and what it read to STATE
(0600: it holds the user's password). verify (test_upgrade.py) reads the same things back.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import yaml

# Run as a script by prepare: the default scenario's stack_api is beside, not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "default" / "tests"))
from stack_api import AODH, GNOCCHI, KEYSTONE, issue_token, request, wait_for

MEASURES = 1000
METRICS = 3
RESOURCE_METRICS = ("upgrade.cpu", "upgrade.memory")
ALARM_METRIC = "upgrade.heartbeat"
ARCHIVE_POLICY = "upgrade-1s"
WEBHOOK_PORT = 18999
HOST = "127.0.0.1"
# Measures at fixed past seconds: the same request always means the same points.
FIRST_TIMESTAMP = 1_700_000_000


def ok(status: int, reply: Any, *expected: int) -> Any:
    if status not in (expected or (200, 201)):
        raise SystemExit(f"unexpected {status}: {reply}")
    return reply


def points(count: int = MEASURES) -> list[dict[str, Any]]:
    return [{"timestamp": FIRST_TIMESTAMP + second, "value": float(second % 97)}
            for second in range(count)]


def read_measures(token: str, metric_id: str) -> list[list[Any]]:
    status, _, found = request(f"{GNOCCHI}/metric/{metric_id}/measures?refresh=true"
                               "&granularity=1", token)
    return ok(status, found, 200)


def create_identity(admin: str) -> dict[str, str]:
    suffix = secrets.token_hex(3)
    password = secrets.token_urlsafe(18)
    project = ok(*_call(f"{KEYSTONE}/projects", admin, {"project": {
        "name": f"upgrade-{suffix}", "domain_id": "default"}}))["project"]
    user = ok(*_call(f"{KEYSTONE}/users", admin, {"user": {
        "name": f"upgrade-{suffix}", "domain_id": "default", "password": password,
        "default_project_id": project["id"]}}))["user"]
    status, _, roles = request(f"{KEYSTONE}/roles?name=member", admin)
    role = ok(status, roles, 200)["roles"][0]
    ok(*_call(f"{KEYSTONE}/projects/{project['id']}/users/{user['id']}/roles/{role['id']}",
              admin, method="PUT"), 204)
    return {"project": project["name"], "project_id": project["id"], "user": user["name"],
            "user_id": user["id"], "password": password}


def _call(url: str, token: str, body: Any = None, method: str | None = None) -> tuple[int, Any]:
    status, _, reply = request(url, token, body, method)
    return status, reply


def create_metrics(admin: str, token: str) -> dict[str, Any]:
    status, _, policy = request(f"{GNOCCHI}/archive_policy", admin, {
        "name": ARCHIVE_POLICY, "definition": [{"granularity": "1s", "points": 86400}]})
    ok(status, policy, 201, 409)
    metrics = [ok(*_call(f"{GNOCCHI}/metric", token, {
        "name": f"upgrade.standalone.{index}", "archive_policy_name": ARCHIVE_POLICY}))["id"]
        for index in range(METRICS)]
    resource = ok(*_call(f"{GNOCCHI}/resource/generic", token, {
        "id": f"upgrade-resource-{secrets.token_hex(4)}",
        "metrics": {**{name: {"archive_policy_name": ARCHIVE_POLICY}
                       for name in RESOURCE_METRICS},
                    ALARM_METRIC: {"archive_policy_name": "horizon-mimic"}}}))
    every_metric = [*metrics, *(resource["metrics"][name] for name in RESOURCE_METRICS)]
    ok(*_call(f"{GNOCCHI}/batch/metrics/measures", token,
              {metric: points() for metric in every_metric}), 202)
    counts = {metric: len(wait_for(f"{MEASURES} measures of {metric}", lambda m=metric: (
        read_measures(token, m) if len(read_measures(token, m)) == MEASURES else None)))
        for metric in every_metric}
    return {"metrics": metrics, "resource_id": resource["id"],
            "resource_metrics": resource["metrics"], "counts": counts}


def feed_alarm_metric(token: str, state: dict[str, Any]) -> None:
    """A fresh measure above the alarm's threshold, for the evaluator to find."""
    metric = state["resource_metrics"][ALARM_METRIC]
    ok(*_call(f"{GNOCCHI}/metric/{metric}/measures", token,
              [{"timestamp": time.time(), "value": 1.0}]), 202)


def create_alarm(token: str, resource_id: str) -> dict[str, Any]:
    alarm = ok(*_call(f"{AODH}/alarms", token, {
        "name": f"upgrade-heartbeat-{secrets.token_hex(3)}",
        "type": "gnocchi_resources_threshold",
        "gnocchi_resources_threshold_rule": {
            "metric": ALARM_METRIC, "resource_type": "generic", "resource_id": resource_id,
            "aggregation_method": "mean", "granularity": 60, "evaluation_periods": 1,
            "comparison_operator": "gt", "threshold": 0.0},
        "alarm_actions": [f"http://{HOST}:{WEBHOOK_PORT}/alarm"], "repeat_actions": False}))
    return {"alarm_id": alarm["alarm_id"]}


def write(state_path: Path, config_dir: Path) -> None:
    passwords = yaml.safe_load((config_dir / "passwords.yml").read_text())
    admin = issue_token("admin", passwords["keystone_admin_password"], "admin")
    identity = create_identity(admin)
    token = issue_token(identity["user"], identity["password"], identity["project"])
    metrics = create_metrics(admin, token)
    state = {"identity": identity, **metrics, **create_alarm(token, metrics["resource_id"])}
    state_path.touch(mode=0o600)
    state_path.write_text(json.dumps(state, indent=2))
    print(f"wrote {len(state['counts'])} metrics x {MEASURES} measures, resource "
          f"{state['resource_id']}, alarm {state['alarm_id']}, user {identity['user']}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "write":
        raise SystemExit("usage: upgrade_data.py write STATE_FILE CONFIG_DIR")
    try:
        write(Path(sys.argv[2]), Path(sys.argv[3]))
    except TimeoutError as timeout:
        raise SystemExit(f"upgrade_data.py: {timeout}") from None
