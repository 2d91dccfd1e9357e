"""Every CLI: bad input is exit 2 and one `prog: error: ...` line on stderr, never a traceback.

The CLIs run as separate processes, as an operator runs them. Nothing here reaches an engine or
a cluster: engine URLs and kubeconfigs point at nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

BUILD, ANSIBLE, GENPWD, K8S = ("telemetry.cli.build", "telemetry.cli.ansible",
                               "telemetry.cli.genpwd", "telemetry.cli.k8s")
PROGS = {BUILD: "telemetry-build", ANSIBLE: "telemetry-ansible", GENPWD: "telemetry-genpwd",
         K8S: "telemetry-k8s"}


def environment(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("TELEMETRY_") and key not in ("KUBECONFIG",
                                                                "KUBERNETES_SERVICE_HOST")}
    return {**env, **overrides}


def assert_one_error_line(result: subprocess.CompletedProcess[str], module: str,
                          code: int = 2) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == code, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{PROGS[module]}: error: "), result.stderr
    return lines[0]


@pytest.fixture
def passwords(tmp_path: Path) -> Path:
    path = tmp_path / "passwords.yml"
    shutil.copy(ROOT / "etc/telemetry/passwords.yml", path)
    assert run_cli(GENPWD, "-p", str(path)).returncode == 0
    return path


@pytest.fixture
def bad_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "services.yml"
    path.write_text("users: {}\nimages: {}\nprofiles: {}\nservices: {}\nsurprise: 1\n")
    return path


# --------------------------------------------------------------------------- a bad catalog


def test_build_bad_catalog(bad_catalog: Path) -> None:
    result = run_cli(BUILD, "--list-images", env=environment(TELEMETRY_CATALOG=str(bad_catalog)))
    assert "surprise" in assert_one_error_line(result, BUILD)


def test_build_catalog_that_is_not_yaml(tmp_path: Path) -> None:
    catalog = tmp_path / "services.yml"
    catalog.write_text("services: [\n")
    result = run_cli(BUILD, "--list-images", env=environment(TELEMETRY_CATALOG=str(catalog)))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"telemetry-build: error: cannot read the catalog {catalog}")


def test_ansible_bad_catalog(bad_catalog: Path, passwords: Path, tmp_path: Path) -> None:
    result = run_cli(ANSIBLE, "prechecks", "--configdir", str(passwords.parent),
                     "--engine-url", f"unix://{tmp_path}/no-engine.sock",
                     env=environment(TELEMETRY_CATALOG=str(bad_catalog)))
    assert "surprise" in assert_one_error_line(result, ANSIBLE)


def test_k8s_bad_catalog(bad_catalog: Path, passwords: Path) -> None:
    result = run_cli(K8S, "resource", "template", "all", "--passwords", str(passwords),
                     env=environment(TELEMETRY_CATALOG=str(bad_catalog)))
    assert "surprise" in assert_one_error_line(result, K8S)


# --------------------------------------------------------------------------- passwords, globals


@pytest.mark.parametrize(("content", "expected"), [
    ("[one, two\n", "is not valid YAML (line 2, column 1"),
    ("- one\n- two\n", "must be a mapping of key: value, not a list"),
])
def test_genpwd_bad_passwords_file(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "passwords.yml"
    path.write_text(content)
    assert expected in assert_one_error_line(run_cli(GENPWD, "-p", str(path)), GENPWD)


def test_genpwd_missing_file_names_the_template(tmp_path: Path) -> None:
    line = assert_one_error_line(run_cli(GENPWD, "-p", str(tmp_path / "nope.yml")), GENPWD)
    assert f"copy {ROOT}/etc/telemetry/passwords.yml there" in line


@pytest.mark.parametrize("name", ["passwords.yml", "globals.yml"])
def test_ansible_bad_config_file(tmp_path: Path, passwords: Path, name: str) -> None:
    (passwords.parent / name).write_text("- a list\n")
    result = run_cli(ANSIBLE, "prechecks", "--configdir", str(passwords.parent),
                     "--engine-url", f"unix://{tmp_path}/no-engine.sock", env=environment())
    assert f"{passwords.parent / name} must be a mapping" in assert_one_error_line(result,
                                                                                    ANSIBLE)


def test_ansible_deploy_without_passwords(tmp_path: Path) -> None:
    # --limit matches no host: even a regression that ran the play would change nothing here.
    result = run_cli(ANSIBLE, "deploy", "--skip-prechecks", "--configdir", str(tmp_path),
                     "--limit", "no-such-host", env=environment())
    assert "passwords.yml does not exist" in assert_one_error_line(result, ANSIBLE)


def test_k8s_globals_not_a_mapping(tmp_path: Path, passwords: Path) -> None:
    extra = tmp_path / "globals.yml"
    extra.write_text("- a list\n")
    result = run_cli(K8S, "resource", "template", "all", "--passwords", str(passwords),
                     "--globals", str(extra), env=environment())
    assert str(extra) in assert_one_error_line(result, K8S)


def test_k8s_missing_passwords(tmp_path: Path) -> None:
    result = run_cli(K8S, "resource", "template", "all", "--passwords",
                     str(tmp_path / "nope.yml"), env=environment())
    assert "--passwords" in assert_one_error_line(result, K8S)


# --------------------------------------------------------------------------- telemetry-k8s


def test_k8s_unknown_registry_name(passwords: Path) -> None:
    result = run_cli(K8S, "resource", "template", "pod", "no-such-service", "--passwords",
                     str(passwords), env=environment())
    assert "no-such-service" in assert_one_error_line(result, K8S)


def test_k8s_missing_kubeconfig(tmp_path: Path, passwords: Path) -> None:
    missing = tmp_path / "no-kubeconfig"
    result = run_cli(K8S, "resource", "status", "all", "--passwords", str(passwords),
                     "--kubeconfig", str(missing), env=environment())
    line = assert_one_error_line(result, K8S, code=3)
    assert str(missing) in line and "--kubeconfig FILE" in line


def test_k8s_no_kubeconfig_at_all(tmp_path: Path, passwords: Path) -> None:
    result = run_cli(K8S, "resource", "status", "all", "--passwords", str(passwords),
                     env=environment(KUBECONFIG=str(tmp_path / "none"), HOME=str(tmp_path)))
    assert "--kubeconfig FILE" in assert_one_error_line(result, K8S, code=3)


def test_k8s_kubeconfig_without_a_cluster(tmp_path: Path, passwords: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    result = run_cli(K8S, "resource", "status", "all", "--passwords", str(passwords),
                     "--kubeconfig", str(kubeconfig), env=environment())
    assert str(kubeconfig) in assert_one_error_line(result, K8S, code=3)


def test_k8s_kubeconfig_that_is_not_yaml(tmp_path: Path, passwords: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("token: s3cr3t-token\n{{{ : [\n")
    result = run_cli(K8S, "resource", "status", "all", "--passwords", str(passwords),
                     "--kubeconfig", str(kubeconfig), env=environment())
    line = assert_one_error_line(result, K8S, code=3)
    assert str(kubeconfig) in line and "not valid YAML" in line
    assert "s3cr3t" not in result.stdout + result.stderr
