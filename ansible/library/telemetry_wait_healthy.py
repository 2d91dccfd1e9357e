#!/usr/bin/python
"""Ansible module: wait until containers' healthchecks pass; fail with the last log lines.

One call waits for all the containers of a service, one after the other: a module start-up per
service rather than per container keeps a no-change deploy quick.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: telemetry_wait_healthy
short_description: Run a container's healthcheck until it passes
description:
  - podman without systemd never runs healthchecks on a timer, so this module runs the
    container's configured healthcheck inside it until it passes or the timeout ends.
  - On failure it names the container and returns its last log lines.
options:
  names: {type: list, elements: str, required: true, description: containers to wait for}
  timeout: {type: int, default: 120}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={"names": {"type": "list", "elements": "str", "required": True},
                       "timeout": {"type": "int", "default": 120},
                       "engine_url": {"type": "str",
                                      "default": "unix:///run/podman/podman.sock"}},
        supports_check_mode=True)
    import docker
    import docker.errors

    from telemetry.deploy.health import last_log_lines, wait_healthy

    client = docker.DockerClient(base_url=module.params["engine_url"])
    timeout = module.params["timeout"]
    health = {}
    for name in module.params["names"]:
        try:
            container = client.containers.get(name)
        except docker.errors.NotFound:
            module.fail_json(msg=f"container {name} does not exist: deploy it first")
        result = wait_healthy(container, timeout)
        if result.health not in ("healthy", "none"):
            logs = last_log_lines(container)
            module.fail_json(msg=f"{name} is not healthy after {timeout}s "
                                 f"({result.state}, {result.detail}); last log lines:\n"
                                 + "\n".join(logs), log_tail=logs, container=name)
        health[name] = result.health
    module.exit_json(changed=False, health=health)


if __name__ == "__main__":
    main()
