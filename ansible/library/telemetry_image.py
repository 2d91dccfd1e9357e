#!/usr/bin/python
"""Ansible module: pull images from their registry onto this host (telemetry-ansible pull).

As Kolla-Ansible's pull: the deploy itself never pulls nor builds, so a host gets its images
here, ahead of a deploy or an upgrade. Always asks the registry (a tag may have moved); changed
when an image is new on the host or its ID moved. The registry's TLS settings are the engine's
(podman's registries.conf).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.telemetry_common.modules import (
    ENGINE_URL_OPTION,
    ModuleError,
    engine_client,
    run_module,
)

with contextlib.suppress(ImportError):  # engine_client() reports a missing SDK
    import docker.errors

DOCUMENTATION = r"""
---
module: telemetry_image
short_description: Pull images onto the host from their registry
options:
  names: {type: list, elements: str, required: true, description: "[registry/]repo:tag each"}
  engine_url: {type: str, default: unix:///run/podman/podman.sock}
"""

RETURN = r"""
pulled: {description: per image, its ID and whether it changed, type: list}
"""


@dataclass(frozen=True)
class Pulled:
    name: str
    image_id: str
    changed: bool


def pull(client: Any, reference: str) -> Pulled:
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:
        raise ModuleError(f"image {reference!r} has no tag: give repository:tag")
    before = _image_id(client, reference)
    try:
        image = client.images.pull(repository, tag=tag)
    except docker.errors.APIError as err:
        raise ModuleError(f"pull of {reference} failed: {err.explanation or err}: check "
                          "telemetry_registry, that telemetry-build --push sent the image there, "
                          "and that this host reaches the registry") from err
    return Pulled(reference, image.id, image.id != before)


def _image_id(client: Any, reference: str) -> str | None:
    try:
        return client.images.get(reference).id
    except docker.errors.ImageNotFound:
        return None


def run(params: dict[str, Any]) -> dict[str, Any]:
    client = engine_client(params["engine_url"])
    try:
        pulled = [pull(client, name) for name in dict.fromkeys(params["names"])]
    finally:
        client.close()
    return {"changed": any(p.changed for p in pulled),
            "pulled": [{"name": p.name, "image_id": p.image_id, "changed": p.changed}
                       for p in pulled]}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "names": {"type": "list", "elements": "str", "required": True},
            "engine_url": ENGINE_URL_OPTION,
        },
        supports_check_mode=False,
    )
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
