"""Adding a service touches its catalog entry, its config template and its Dockerfile: nothing
else. A copy of the project gets a new service `echo` (those three files only); telemetry-build
builds its image, deploy.yml deploys it with the Ansible engine and it answers, for real.
(tests/unit/test_k8s_* render the same kind of addition with telemetry-k8s.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import docker
import pytest
import yaml

from tests.conftest import ROOT

ECHO_PORT = 18999
ECHO_SERVICE = {
    "group": "control",
    "containers": {"echo": {
        "image": "echo", "user": "telemetry",
        # The command is a template, like config files: port and listen address are variables.
        "command": "python3 -m http.server {{ echo_port }} --bind {{ listen_address }} "
                   "--directory /var/lib/echo",
        "ports": {"echo": ECHO_PORT},
        "config_files": [{"src": "index.html", "dest": "/var/lib/echo/index.html",
                          "owner": "telemetry", "perm": "0644"}],
        "healthcheck": {"type": "http", "port": "echo", "path": "/index.html"},
    }},
}
DOCKERFILE = """FROM {{ parent_image }}
{% block echo_header %}{% endblock %}
RUN mkdir -p /var/lib/echo && chown telemetry /var/lib/echo
{% block echo_footer %}{% endblock %}
"""
TEMPLATE = "echo from {{ openstack_region_name }} on port {{ echo_port }}\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's data trees with the three files of a new service added."""
    root = tmp_path_factory.mktemp("project")
    for tree in ("ansible", "kolla_images", "etc", "src/telemetry/runtime", "services",
                 "kubernetes"):
        shutil.copytree(ROOT / tree, root / tree, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".molecule"))
    catalog = yaml.safe_load((ROOT / "src/telemetry/catalog/services.yml").read_text())
    catalog["images"]["echo"] = {"parent": "base"}
    catalog["services"]["echo"] = ECHO_SERVICE
    (root / "services.yml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    (root / "kolla_images/echo/echo").mkdir(parents=True)
    (root / "kolla_images/echo/echo/Dockerfile.j2").write_text(DOCKERFILE)
    (root / "ansible/roles/echo/templates").mkdir(parents=True)
    (root / "ansible/roles/echo/templates/index.html.j2").write_text(TEMPLATE)
    return root


def _env(project: Path) -> dict[str, str]:
    return {**os.environ, "TELEMETRY_HOME": str(project),
            "TELEMETRY_CATALOG": str(project / "services.yml"), "ANSIBLE_NOCOLOR": "1"}


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.fixture(scope="module")
def deployed(project: Path, tmp_path_factory: pytest.TempPathFactory):
    env = _env(project)
    build = subprocess.run([_tool("telemetry-build"), "^echo$", "--logs-dir",
                            str(tmp_path_factory.mktemp("logs"))],
                           capture_output=True, text=True, env=env, check=False, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-2000:]
    configdir = tmp_path_factory.mktemp("etc")
    keys = yaml.safe_load((ROOT / "etc/telemetry/passwords.yml").read_text())
    (configdir / "passwords.yml").write_text(yaml.safe_dump({k: f"x{i}y" for i, k in
                                                             enumerate(keys)}))
    nodes = tmp_path_factory.mktemp("containers")
    command = [_tool("ansible-playbook"), "-i", str(project / "ansible/inventory/all-in-one"),
               str(project / "ansible/deploy.yml"), "--tags", "echo",
               "-e", f"telemetry_config_dir={configdir}", "-e", f"node_config_directory={nodes}"]
    deploy = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                            timeout=900)
    yield build, deploy
    client = docker.DockerClient(base_url="unix:///run/podman/podman.sock")
    for container in client.containers.list(all=True, filters={"label": "telemetry.service=echo"}):
        container.remove(force=True)


def test_the_new_service_is_built_and_deployed_and_answers(deployed) -> None:
    build, deploy = deployed
    assert "echo" in build.stdout and "failed 0" in build.stdout
    assert deploy.returncode == 0, deploy.stdout[-4000:]
    assert "Wait until healthy: echo" in deploy.stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{ECHO_PORT}/index.html", timeout=10) as reply:
        assert reply.read().decode() == f"echo from RegionOne on port {ECHO_PORT}\n"


def test_only_the_new_service_was_deployed(deployed) -> None:
    _, deploy = deployed
    included = [line for line in deploy.stdout.splitlines()
                if "deploy-service.yml" in line and "=> (item=" in line]
    assert len(included) == 1 and "(item=echo)" in included[0], included
