"""Our Ansible modules run on a managed host that has Python and the docker SDK, nothing else.

Ansible bundles ansible/module_utils/telemetry_common (a link to src/telemetry/common) into each
module's AnsiballZ payload, relative imports included; these run the modules with interpreters
that have neither this project nor Ansible. No engine is needed: the calls either need none
(an empty names list) or point engine_url at a socket nothing answers at.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

ANSIBLE_DIR = ROOT / "ansible"
# What telemetry_wait_healthy imports from module_utils, and nothing more (overrides.py and
# yaml_files.py need PyYAML, which a managed host need not have).
WAIT_HEALTHY_PAYLOAD = {"__init__.py", "engine.py", "errors.py", "health.py", "modules.py"}


def make_venv(path: Path, *packages: str) -> Path:
    without_pip = [] if packages else ["--without-pip"]
    subprocess.run([sys.executable, "-m", "venv", *without_pip, str(path)], check=True,
                   timeout=300)
    if packages:
        subprocess.run([str(path / "bin" / "pip"), "install", "-q", *packages], check=True,
                       capture_output=True, timeout=900)
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python with the docker SDK only: no telemetry package, no ansible."""
    base = tmp_path_factory.mktemp("bare")
    python = make_venv(base / "venv", "docker")
    for absent in ("telemetry", "ansible", "yaml"):
        # Not from the checkout: its ansible/ directory would import as a namespace package.
        probe = subprocess.run([str(python), "-c", f"import {absent}"], capture_output=True,
                               cwd=base, check=False)
        assert probe.returncode != 0, f"{absent} is importable by the bare venv"
    return python


def ansible(tmp_path: Path, python: Path, module: str, args: dict[str, object],
            **extra_env: str) -> tuple[bool, dict[str, object]]:
    """Run one module ad hoc against localhost with `python`: did it fail, and its result (as
    --tree writes it, without the 'failed' key: the exit code says that)."""
    env = {**os.environ, "ANSIBLE_LIBRARY": str(ANSIBLE_DIR / "library"),
           "ANSIBLE_MODULE_UTILS": str(ANSIBLE_DIR / "module_utils"),
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local"),
           "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote"),
           "ANSIBLE_LOCALHOST_WARNING": "False", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
           "ANSIBLE_NOCOLOR": "1", **extra_env}
    tree = tmp_path / "tree"
    command = [str(Path(sys.executable).parent / "ansible"), "localhost", "-m", module,
               "-a", json.dumps(args), "-e", f"ansible_python_interpreter={python}",
               "--tree", str(tree)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=300, check=False)
    assert (tree / "localhost").is_file(), result.stdout + result.stderr
    return result.returncode != 0, json.loads((tree / "localhost").read_text())


def test_wait_healthy_runs_with_only_the_docker_sdk(tmp_path: Path, bare_python: Path) -> None:
    failed, result = ansible(tmp_path, bare_python, "telemetry_wait_healthy", {"names": []})
    assert not failed, result
    assert result["health"] == {}


@pytest.mark.parametrize(("module", "args"), [
    ("telemetry_container", {"name": "tm-nothing", "image": "tm-nothing:latest"}),
    ("telemetry_oneshot", {"name": "tm-nothing", "image": "tm-nothing:latest"}),
    ("telemetry_wait_healthy", {"names": ["tm-nothing"]}),
])
def test_an_unreachable_engine_is_a_message_not_a_traceback(
        tmp_path: Path, bare_python: Path, module: str, args: dict[str, object]) -> None:
    socket = f"unix://{tmp_path}/no-engine.sock"
    failed, result = ansible(tmp_path, bare_python, module, {**args, "engine_url": socket})
    assert failed, result
    # MODULE FAILURE with module_stderr is what an ImportError on the host would look like.
    assert "module_stderr" not in result, result
    assert f"no container engine answers at {socket}" in str(result["msg"])
    assert "podman system service" in str(result["msg"])


def test_a_missing_docker_sdk_says_what_to_install(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "nothing")
    failed, result = ansible(tmp_path, python, "telemetry_container",
                             {"name": "tm-nothing", "image": "tm-nothing:latest"})
    assert failed, result
    assert "module_stderr" not in result, result
    assert "pip install 'docker>=7'" in str(result["msg"])


def test_the_payload_carries_only_what_the_module_imports(tmp_path: Path,
                                                           bare_python: Path) -> None:
    ansible(tmp_path, bare_python, "telemetry_wait_healthy", {"names": []},
            ANSIBLE_KEEP_REMOTE_FILES="1")
    [payload] = (tmp_path / "remote").glob("*/AnsiballZ_telemetry_wait_healthy.py")
    # AnsiballZ's own debugging aid: unpack the bundled files next to the payload.
    subprocess.run([str(bare_python), str(payload), "explode"], check=True, capture_output=True,
                   timeout=60)
    bundled = payload.parent / "debug_dir" / "ansible" / "module_utils" / "telemetry_common"
    assert {path.name for path in bundled.iterdir()} == WAIT_HEALTHY_PAYLOAD
    assert not (payload.parent / "debug_dir" / "telemetry").exists()
