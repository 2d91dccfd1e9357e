"""Bootstrap one-shots run from the toolbox image by Ansible and by Kubernetes Jobs.

    python3 -m telemetry.bootstrap TASK --spec FILE [--format text|json]

Tasks: ``database`` (MariaDB databases, users, grants), ``keystone`` (service project, role,
service users, catalog), ``gnocchi-archive-policies`` (archive policies and rules),
``wait-http`` (wait until a URL answers). Each is idempotent and reports every object as
created / updated / replaced / deleted / unchanged / drift, then one summary line.

The spec is YAML rendered by the deployment; one file may hold every section (``database``,
``auth``, ``keystone``, ``gnocchi``, ``wait_http``) and each task reads only its own. The
module docstrings of database, auth, keystone, gnocchi and waithttp describe the sections.
It holds secrets: no value from it is ever printed, only field names.

Exit codes: 0 done (changed or not); 1 the task failed (service refused or never answered,
drift with fail_on_drift); 2 bad spec or usage (the message names the field).

Importing this package needs only the standard library and PyYAML: pymysql, keystoneauth1
and keystoneclient are imported by the functions that use them.
"""

from telemetry.bootstrap.errors import (
    EXIT_BAD_SPEC,
    EXIT_FAILED,
    EXIT_OK,
    BootstrapError,
    DriftError,
    SpecError,
    TaskError,
    UnavailableError,
)
from telemetry.bootstrap.report import Action, Change, TaskResult

__all__ = ["EXIT_BAD_SPEC", "EXIT_FAILED", "EXIT_OK", "Action", "BootstrapError", "Change",
           "DriftError", "SpecError", "TaskError", "TaskResult", "UnavailableError"]
