"""telemetry-k8s's errors and outputs: each says what is wrong and what is valid."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from telemetry.cli import k8s as cli
from tests.conftest import run_cli
from tests.unit.k8s_fixtures import ROOT, fake_passwords, write_passwords


def run(tmp_path: Path, *args: str, passwords: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    passwords = passwords or write_passwords(tmp_path)
    code = cli.main(["resource", *args, "--passwords", str(passwords)], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_unknown_type_lists_the_valid_ones(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "template", "deployment", "aodh")
    assert code == 2
    assert "unknown resource type 'deployment'" in err
    assert "pvc, configmap, secret, svc, bootstrap, pod, all" in err


def test_unknown_name_lists_the_valid_ones(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "template", "pod", "aodh-apii")
    assert code == 2
    assert "unknown pod name(s) aodh-apii" in err
    assert "services mariadb, rabbitmq" in err and "aodh-api, aodh-evaluator" in err


def test_unknown_action_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["resource", "apply", "all"])
    assert exc.value.code == 2


def test_missing_kubeconfig_says_what_to_do(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, _, err = run(tmp_path, "create", "svc", "aodh", "--kubeconfig",
                       str(tmp_path / "missing"))
    assert code == 3
    assert f"no kubeconfig at {tmp_path / 'missing'}" in err
    assert "--kubeconfig FILE or set KUBECONFIG" in err


def test_missing_password_names_the_key(tmp_path: Path) -> None:
    passwords = fake_passwords()
    passwords["aodh_keystone_password"] = ""
    del passwords["redis_password"]
    path = tmp_path / "pw.yml"
    path.write_text(yaml.safe_dump(passwords))
    code, _, err = run(tmp_path, "template", "all", passwords=path)
    assert code == 2
    assert "redis_password, aodh_keystone_password" in err
    assert f"telemetry-genpwd -p {path}" in err


def test_missing_passwords_file(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "template", "all", passwords=tmp_path / "nope.yml")
    assert code == 2
    assert f"passwords file {tmp_path / 'nope.yml'} does not exist" in err


def test_a_missing_template_variable_names_variable_and_template(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project tree whose Deployment template uses a variable nobody defines."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("ansible", "etc", "kolla_images", "kubernetes"):
        os.symlink(ROOT / name, home / name)
    shutil.copytree(ROOT / "services", home / "services")
    (home / "services" / "common" / "deployment.yml.j2").write_text(
        (ROOT / "services/common/deployment.yml.j2").read_text()
        + "# {{ aodh_api_colour }}\n")
    monkeypatch.setenv("TELEMETRY_HOME", str(home))
    code, _, err = run(tmp_path, "template", "pod", "aodh-api")
    assert code == 2
    assert "pod/aodh-api" in err and "'aodh_api_colour' is undefined" in err
    assert "services/common/deployment.yml.j2:" in err
    assert "missing variable aodh_api_colour" in err


def test_template_as_json_is_a_list(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "template", "svc", "-o", "json")
    assert code == 0
    listing = json.loads(out)
    assert listing["kind"] == "List"
    assert {i["metadata"]["name"] for i in listing["items"]} >= {"aodh-api", "loadbalancer"}


def test_template_all_renders_every_service(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "template", "all")
    assert code == 0
    kinds = {d["kind"] for d in yaml.safe_load_all(out) if d}
    assert kinds == {"PersistentVolumeClaim", "ConfigMap", "Secret", "Service", "Job",
                     "Deployment", "DaemonSet"}


def test_validate_reports_every_manifest(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "validate", "all", "--kube-version", "1.31")
    assert code == 0
    assert out.strip().endswith("x 1 version(s): 0 problem(s)")


def test_print_vars_masks_passwords_and_shows_the_layers(tmp_path: Path) -> None:
    globals_file = tmp_path / "site.yml"
    globals_file.write_text("openstack_region_name: Hanoi\n")
    code, out, _ = run(tmp_path, "template", "--print-vars", "--globals", str(globals_file),
                       "-e", "k8s_replicas={aodh-api: 3}")
    assert code == 0
    values = yaml.safe_load(out)
    assert values["orchestration_engine"] == "KUBERNETES"
    assert values["openstack_region_name"] == "Hanoi"
    assert values["k8s_replicas"] == {"aodh-api": 3}
    assert values["database_admin_spec"]["host"] == "mariadb"
    assert values["database_admin_spec"]["password"] == "********"
    assert not [v for v in fake_passwords().values() if v in out]


def test_the_console_script_runs(tmp_path: Path) -> None:
    result = run_cli("telemetry.cli.k8s", "--help", timeout=60)
    assert result.returncode == 0
    assert "exit codes:" in result.stdout


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["resource", "--help"])
    text = capsys.readouterr().out
    assert "exit codes:" in text and "3  no cluster" in text and "--include-pvcs" in text


def test_config_overrides_must_be_a_directory(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "template", "all", "--config-overrides", str(tmp_path / "no"))
    assert code == 2
    assert "is not a directory" in err
