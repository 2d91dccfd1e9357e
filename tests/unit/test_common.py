"""telemetry.common: the neutral layer, its error base, and what Ansible modules may import."""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

import pytest

from telemetry.catalog import CatalogError
from telemetry.cli.genpwd import PasswordsFileError
from telemetry.common import engine
from telemetry.common.errors import (
    ActionFailed,
    BadInput,
    TelemetryError,
    Unavailable,
    run_cli,
)
from telemetry.common.overrides import OverrideError
from telemetry.common.yaml_files import load_mapping
from telemetry.deploy import ansible_tools
from telemetry.image.builder import BuildFailed
from telemetry.image.rootfs import RootfsError
from telemetry.image.tree import SelectionError
from telemetry.k8s.apply import ApplyError, ClusterUnavailable
from telemetry.k8s.configs import SecretInConfigMap
from telemetry.k8s.podman_play.harness import HarnessError
from telemetry.k8s.podman_play.mapping import PlanError
from telemetry.k8s.podman_play.podman import PodmanError
from telemetry.k8s.pods import PodError
from telemetry.k8s.registry import RegistryError, UnknownSelection
from telemetry.k8s.render import RenderError
from telemetry.k8s.validate import ValidationUnavailable
from telemetry.k8s.variables import VariablesError
from telemetry.paths import DataDirNotFound
from telemetry.templating import TemplateError
from tests.conftest import ROOT

COMMON = ROOT / "src" / "telemetry" / "common"
# Shipped to managed hosts through ansible/module_utils/telemetry_common.
FOR_MODULES = ("__init__.py", "contract.py", "engine.py", "errors.py", "health.py", "modules.py")
ALLOWED_THIRD_PARTY = {"docker", "requests"}


@pytest.mark.parametrize(("error", "base", "code"), [
    (CatalogError, BadInput, 2), (SelectionError, BadInput, 2), (RootfsError, BadInput, 2),
    (TemplateError, BadInput, 2), (PasswordsFileError, BadInput, 2),
    (OverrideError, BadInput, 2), (DataDirNotFound, BadInput, 2),
    (RegistryError, BadInput, 2), (UnknownSelection, BadInput, 2), (PodError, BadInput, 2),
    (VariablesError, BadInput, 2), (RenderError, BadInput, 2),
    (SecretInConfigMap, BadInput, 2), (ValidationUnavailable, BadInput, 2),
    (PlanError, BadInput, 2),
    (BuildFailed, ActionFailed, 1), (ApplyError, ActionFailed, 1),
    (HarnessError, ActionFailed, 1), (PodmanError, ActionFailed, 1),
    (engine.EngineUnreachable, Unavailable, 3), (ClusterUnavailable, Unavailable, 3),
])
def test_error_classes_carry_their_exit_code(error: type[Exception], base: type[TelemetryError],
                                             code: int) -> None:
    assert issubclass(error, base)
    assert error.exit_code == code  # type: ignore[attr-defined]


def test_run_cli_prints_one_line_and_returns_the_code() -> None:
    def fails() -> int:
        raise Unavailable("no engine")

    err = io.StringIO()
    assert run_cli("prog", fails, err) == 3
    assert err.getvalue() == "prog: error: no engine\n"
    assert run_cli("prog", lambda: 0, err) == 0


def test_run_cli_lets_bugs_keep_their_traceback() -> None:
    def bug() -> int:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_cli("prog", bug, io.StringIO())


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import; level 0 is absolute."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


@pytest.mark.parametrize("name", FOR_MODULES)
def test_module_utils_code_imports_only_stdlib_docker_and_siblings(name: str) -> None:
    for level, module in _imports(COMMON / name):
        top = module.split(".")[0]
        if level:
            assert level == 1, f"{name}: from {'.' * level}{module}"
            assert (COMMON / f"{top}.py").is_file(), f"{name}: .{module} is not a sibling"
        else:
            assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
                f"{name} imports {module}: a managed host has only Python and the docker SDK")


@pytest.mark.parametrize("path", sorted(COMMON.glob("*.py")), ids=lambda path: path.name)
def test_common_imports_no_engine_package(path: Path) -> None:
    # Siblings come in relatively, so the same files work as ansible.module_utils.*.
    assert not [module for level, module in _imports(path)
                if level == 0 and module.split(".")[0] == "telemetry"]


def test_module_utils_is_the_common_package_itself() -> None:
    link = ROOT / "ansible" / "module_utils" / "telemetry_common"
    assert link.is_symlink()
    assert link.resolve() == COMMON


def test_connect_to_nothing_is_unavailable_and_starts_nothing(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             ) -> None:
    monkeypatch.setattr(engine, "start_podman_service",
                        lambda url: pytest.fail(f"started podman for {url}"))
    url = f"unix://{tmp_path}/none.sock"
    with pytest.raises(engine.EngineUnreachable, match="point engine_url at a Docker socket"):
        engine.connect(url, timeout=5, option="engine_url")


@pytest.mark.parametrize(("content", "message"), [
    ("a: [1,\n", r"is not valid YAML \(line 2, column 1: "),
    ("just a string\n", "must be a mapping of key: value, not a str"),
])
def test_load_mapping_errors_are_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "globals.yml"
    path.write_text(content)
    with pytest.raises(BadInput, match=message) as caught:
        load_mapping(path)
    assert "\n" not in str(caught.value)


def test_load_mapping_of_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / "globals.yml").write_text("# nothing set\n")
    assert load_mapping(tmp_path / "globals.yml") == {}


def test_a_missing_ansible_tool_is_bad_input(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ansible_tools.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(ansible_tools.sysconfig, "get_path", lambda name: str(tmp_path))
    with pytest.raises(BadInput, match=r"ansible-playbook is not installed next to .*"
                                       r"pip install 'ansible-core>=2.19'"):
        ansible_tools.ansible_tool("ansible-playbook")


def test_ansible_tools_are_found_next_to_this_python() -> None:
    found = Path(ansible_tools.ansible_tool("ansible-inventory"))
    assert found.parent == Path(sys.executable).parent
