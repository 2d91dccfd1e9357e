#!/usr/bin/python
"""Ansible module: write a container's rendered config files; only those whose content differs.

Called by the telemetry_config action plugin (which renders the templates and merges the
operator's overrides on the controller). Standard library only: it runs on every managed host.
"""

from __future__ import annotations

import difflib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: telemetry_config
short_description: Write rendered config files of one container (use through the action plugin)
options:
  dest: {description: Directory of the container's config files, type: path, required: true}
  files:
    description: List of {name, content}; written 0600 when their content differs.
    type: list
    elements: dict
    required: true
  redact:
    description: Secret values, masked in the diff and in every returned value.
    type: list
    elements: str
    default: []
  diff: {description: Return a unified diff of each changed file, type: bool, default: false}
"""


def current(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomically(path: str, content: str) -> None:
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".telemetry-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def unified(name: str, before: str | None, after: str) -> str:
    return "".join(difflib.unified_diff((before or "").splitlines(True), after.splitlines(True),
                                        fromfile=f"{name} (before)", tofile=f"{name} (after)"))


def main() -> None:
    module = AnsibleModule(
        argument_spec={"dest": {"type": "path", "required": True},
                       "files": {"type": "list", "elements": "dict", "required": True},
                       "redact": {"type": "list", "elements": "str", "default": [],
                                  "no_log": True},
                       "diff": {"type": "bool", "default": False}},
        supports_check_mode=True)
    dest = module.params["dest"]
    changed_files, diffs = [], []
    if not os.path.isdir(dest):
        changed_files.append(dest + "/")
        if not module.check_mode:
            os.makedirs(dest, mode=0o750, exist_ok=True)
    for entry in module.params["files"]:
        path = os.path.join(dest, entry["name"])
        before = current(path)
        if before == entry["content"] and (os.stat(path).st_mode & 0o777) == 0o600:
            continue
        changed_files.append(entry["name"])
        if module.params["diff"]:
            diffs.append({"prepared": unified(entry["name"], before, entry["content"])})
        if not module.check_mode:
            write_atomically(path, entry["content"])
    # AnsibleModule masks every `redact` value (no_log) in what it returns, the diffs included.
    module.exit_json(changed=bool(changed_files), changed_files=changed_files,
                     **({"diff": diffs} if diffs else {}))


if __name__ == "__main__":
    main()
