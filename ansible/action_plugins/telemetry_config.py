"""Action plugin: render one container's config files, merge the operator's overrides, write them.

One module call per container (the files, config.json and the directory together) instead of a
`template` per file: a no-change deploy spends its time in module start-ups, so fewer is faster.
Templates are rendered here on the controller with the play's variables, then merged with
<configdir>/config/ overrides (telemetry.common.overrides), then sent to the `telemetry_config`
module, which writes only what differs. Returns `config_hash` over every file it wrote.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template


def sha1(text: str) -> str:
    # A change detector, not a security boundary.
    return hashlib.sha1(text.encode()).hexdigest()


def secret_names(project_root: Path) -> list[str]:
    """The keys of passwords.yml: their values are masked in diffs and output."""
    import yaml

    return list(yaml.safe_load((project_root / "etc/telemetry/passwords.yml").read_text()) or {})


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "templates_dir", "files", "config_json", "overrides_dir",
                             "service", "container"))

    def run(self, tmp=None, task_vars=None):
        from telemetry.common.overrides import OverrideError, Scope, merge
        from telemetry.paths import project_root

        result = super().run(tmp, task_vars)
        args = self._task.args
        task_vars = task_vars or {}
        templates_dir = Path(args["templates_dir"])
        scope = Scope(args["service"], args["container"], task_vars["inventory_hostname"])
        templar = self._templar.copy_with_new_env(searchpath=[str(templates_dir)],
                                                  available_variables=task_vars)
        files, applied = [], []
        for name in args["files"]:
            source = templates_dir / f"{name}.j2"
            try:
                data = trust_as_template(self._loader.get_text_file_contents(str(source)))
                rendered = templar.template(data, escape_backslashes=False) or ""
                merged = merge(name, rendered, Path(args["overrides_dir"]), scope)
            except OverrideError as error:
                raise AnsibleActionFail(str(error)) from error
            except Exception as error:
                raise AnsibleActionFail(f"{source}: {error}") from error
            files.append({"name": name, "content": merged.content})
            applied += [str(path) for path in merged.applied]
        files.append({"name": "config.json",
                      "content": json.dumps(args["config_json"], indent=4, sort_keys=True) + "\n"})
        secrets = [str(task_vars[key]) for key in secret_names(project_root())
                   if task_vars.get(key)]
        module_result = self._execute_module(
            module_name="telemetry_config", task_vars=task_vars,
            module_args={"dest": args["dest"], "files": files, "redact": secrets,
                         "diff": bool(self._task.diff)})
        result.update(module_result)
        result["config_hash"] = sha1(",".join(sha1(f["content"]) for f in files))
        result["overrides"] = applied
        return result
