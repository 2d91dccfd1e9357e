"""The registry generated from the catalog, in its service order; only what the catalog cannot
say comes from kubernetes/service_resources.yml (:mod:`telemetry.k8s.special`).

Per container: a ConfigMap and a Secret of its config files, a Service when it has ports and is
not on the host network (such a pod is reached at its node's address), a Deployment or, for a
group of ``k8s_daemonset_groups``, a DaemonSet, and a manage-db Job for its ``bootstrap``. Per
service: a claim per volume of ``k8s_persistent_volumes``, a create-db Job for its
``databases``, a registration Job for its ``keystone`` entry (each with its spec Secret), a
logging ConfigMap for its ``log_dir``. A service's resources are named after it when it has one
container, else after the container (``keystone``, ``gnocchi-api``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from telemetry.catalog import Catalog, Container, Service, service_order
from telemetry.k8s.pods import pvc_name
from telemetry.k8s.registry import Registry, RegistryError, Resource
from telemetry.k8s.special import ExtraJob, Special

_COMMON = "services/common"
PVC = f"{_COMMON}/pvc.yml.j2"
CONFIGMAP = f"{_COMMON}/configmap-etc.yml.j2"
LOGGING = f"{_COMMON}/configmap-logging.yml.j2"
SECRET = f"{_COMMON}/secret-etc.yml.j2"
SPEC_SECRET = f"{_COMMON}/secret-spec.yml.j2"
SERVICE = f"{_COMMON}/service.yml.j2"
TOOLBOX_JOB = f"{_COMMON}/job-toolbox.yml.j2"
MANAGE_DB = f"{_COMMON}/job-db-sync.yml.j2"
DEPLOYMENT = f"{_COMMON}/deployment.yml.j2"
DAEMONSET = f"{_COMMON}/daemonset.yml.j2"
# The toolbox tasks of the generated Jobs (telemetry.bootstrap's).
CREATE_DB_TASK = "database"
REGISTER_TASK = "keystone"


def build_registry(catalog: Catalog, special: Special, values: Mapping[str, Any]) -> Registry:
    services = [name for name in service_order(catalog) if name not in special.skipped]
    resources: list[Resource] = []
    for name in services:
        resources += service_resources(catalog, catalog.services[name], special, values)
    _check_unique(resources)
    return Registry(services=tuple(services), resources=tuple(resources))


def service_resources(catalog: Catalog, service: Service, special: Special,
                      values: Mapping[str, Any]) -> list[Resource]:
    """One service's resources; the registry orders them by type."""
    containers = list(service.containers.values())
    jobs = toolbox_jobs(service, special)
    resources = claims(service, values)
    resources += [_resource(service, "configmap", c, CONFIGMAP) for c in containers]
    resources += logging(catalog, service)
    resources += [_resource(service, "secret", c, SECRET) for c in containers]
    resources += [Resource(service.name, "secret", job.name, SPEC_SECRET,
                           {k: v for k, v in job.vars.items() if k != "wait_for"})
                  for job in jobs]
    resources += [_service(service, c, special) for c in containers
                  if c.ports and c.network != "host"]
    # Toolbox Jobs before the manage-db ones: ceilometer-upgrade authenticates as the
    # ceilometer user, which its registration Job creates.
    resources += [job for job in jobs if not job.after_pods]
    resources += [_manage_db(service, c) for c in containers if c.bootstrap]
    resources += [job for job in jobs if job.after_pods]
    daemonset_groups = values["k8s_daemonset_groups"]
    resources += [_resource(service, "pod", c,
                            DAEMONSET if c.group in daemonset_groups else DEPLOYMENT)
                  for c in containers]
    return resources


def component(service: Service, container: Container) -> str:
    """The name of a container's resources: its service's when it is the only one."""
    return service.name if len(service.containers) == 1 else container.name


def claims(service: Service, values: Mapping[str, Any]) -> list[Resource]:
    """A claim per persistent catalog volume (others are emptyDirs, gone with the pod)."""
    persistent = values["k8s_persistent_volumes"]
    volumes = dict.fromkeys(spec.split(":", 1)[0] for c in service.containers.values()
                            for spec in c.volumes)
    return [Resource(service.name, "pvc", pvc_name(service.name, volume), PVC,
                     {"volume": volume}) for volume in volumes if volume in persistent]


def logging(catalog: Catalog, service: Service) -> list[Resource]:
    """The service's logrotate rule: the config file of the catalog's log-rotating container
    (the one with log_volumes), rendered for this service's log_dir."""
    rotator = next((c for c in catalog.containers() if c.log_volumes and c.config_files), None)
    if service.log_dir is None or rotator is None:
        return []
    return [Resource(service.name, "configmap", f"{service.name}-logging", LOGGING,
                     {"log_dir": service.log_dir, "rotator": rotator.name})]


def toolbox_jobs(service: Service, special: Special) -> list[Resource]:
    """create-db, registration and the service's own toolbox Jobs. They may wait for the
    Services of the service's depends_on (the renderer keeps those their spec reaches: the
    database server, keystone); one that runs after the pods for the service's own too."""
    waits = list(service.depends_on)
    jobs: list[Resource] = []
    if service.databases:
        jobs.append(Resource(service.name, "bootstrap", f"{service.name}-create-db",
                             TOOLBOX_JOB, {"task": CREATE_DB_TASK, "wait_for": waits}))
    if service.keystone is not None:
        jobs.append(Resource(service.name, "bootstrap", f"{service.name}-register",
                             TOOLBOX_JOB, {"task": REGISTER_TASK, "wait_for": waits}))
    jobs += [_extra_job(service, job) for job in special.jobs_of(service.name)]
    return jobs


def _extra_job(service: Service, job: ExtraJob) -> Resource:
    waits = [*service.depends_on, service.name] if job.after_pods else list(service.depends_on)
    return Resource(service.name, "bootstrap", job.name, TOOLBOX_JOB,
                    {"task": job.task, "spec": job.spec, "wait_for": waits},
                    after_pods=job.after_pods)


def _resource(service: Service, type_: str, container: Container, template: str) -> Resource:
    return Resource(service.name, type_, component(service, container), template,
                    {"container": container.name})


def _service(service: Service, container: Container, special: Special) -> Resource:
    name = component(service, container)
    # The config templates reach a Service through this variable (mariadb_service_name,
    # gnocchi_api_service_name): its value names the Service, the component name by default.
    variables: dict[str, Any] = {"container": container.name,
                                 "service_name": f"{name.replace('-', '_')}_service_name"}
    if container.name in special.service_types:
        variables["service_type"] = special.service_types[container.name]
    return Resource(service.name, "svc", name, SERVICE, variables)


def _manage_db(service: Service, container: Container) -> Resource:
    """kolla's manage-db Job for a service with databases (aodh-manage-db); a service without
    one runs a one-shot of its own, named after its command (ceilometer-upgrade)."""
    bootstrapping = [c for c in service.containers.values() if c.bootstrap]
    prefix = service.name if len(bootstrapping) == 1 else container.name
    if service.databases:
        name = f"{prefix}-manage-db"
    else:
        command = PurePosixPath(str(container.bootstrap).split()[0]).stem
        command = re.sub(r"[^a-z0-9-]+", "-", command.lower()).strip("-")
        name = command if command.startswith(f"{service.name}-") else f"{prefix}-{command}"
    return Resource(service.name, "bootstrap", name, MANAGE_DB, {"container": container.name})


def _check_unique(resources: list[Resource]) -> None:
    seen: dict[tuple[str, str], Resource] = {}
    for resource in resources:
        key = (resource.type, resource.name)
        if key in seen:
            raise RegistryError(f"two {resource.type} resources are named {resource.name} "
                                f"(services {seen[key].service} and {resource.service}): "
                                "rename the catalog container or the registry exception")
        seen[key] = resource
