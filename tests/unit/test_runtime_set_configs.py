"""telemetry_set_configs and telemetry_start, run as the real scripts against temp dirs.

Owners are checked for real (chown to ``nobody``), so these tests need root.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shlex
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "src" / "telemetry" / "runtime"
SET_CONFIGS = RUNTIME / "set_configs.py"
START = RUNTIME / "telemetry_start"
NOBODY = pwd.getpwnam("nobody")
NOBODY_GROUP = grp.getgrgid(NOBODY.pw_gid).gr_name

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to other users needs root")


class Sandbox:
    """A config mount (tmp/config_files with config.json) and a place for destinations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mount = root / "config_files"
        self.mount.mkdir()
        self.config = self.mount / "config.json"
        self.marker = root / "state" / "configured"
        self.etc = root / "etc"
        self.service_out = root / "service.out"
        self.bin = root / "bin"
        self.bin.mkdir()
        wrapper = self.bin / "telemetry_set_configs"
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {SET_CONFIGS} "$@"\n')
        wrapper.chmod(0o755)

    def source(self, name: str, content: str = "content\n") -> str:
        path = self.mount / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return str(path)

    def dest(self, name: str) -> str:
        return str(self.etc / name)

    def describe(self, files: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        description = {"command": "true", "config_files": files or [], **extra}
        self.config.write_text(json.dumps(description))

    def environ(self, **env: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("TELEMETRY_")}
        base["PATH"] = f"{self.bin}{os.pathsep}{base.get('PATH', '/usr/bin:/bin')}"
        base["TELEMETRY_CONFIG_FILE"] = str(self.config)
        base["TELEMETRY_CONFIG_MARKER"] = str(self.marker)
        return {**base, **env}

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SET_CONFIGS), *args],
            env=self.environ(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )


def entry(source: str, dest: str, owner: str = "nobody", perm: str = "0640", **more: Any) -> dict:
    return {"source": source, "dest": dest, "owner": owner, "perm": perm, **more}


def mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("telemetry_set_configs: error: ")
    for word in words:
        assert word in result.stderr


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


# --- copying ------------------------------------------------------------------------------


def test_copies_file_with_owner_and_mode(box: Sandbox) -> None:
    src, dest = box.source("gnocchi.conf", "[DEFAULT]\ndebug = true\n"), box.dest("g/gnocchi.conf")
    box.describe([entry(src, dest, owner="nobody", perm="0600")])

    result = box.run()

    assert result.returncode == 0, result.stderr
    assert Path(dest).read_text() == "[DEFAULT]\ndebug = true\n"
    st = os.stat(dest)
    assert (st.st_uid, st.st_gid) == (NOBODY.pw_uid, NOBODY.pw_gid)
    assert mode(dest) == 0o600
    assert f"copied {src} -> {dest} (nobody:{NOBODY_GROUP}, 0600)" in result.stderr
    assert result.stdout == ""


def test_owner_with_explicit_group(box: Sandbox) -> None:
    src, dest = box.source("a.conf"), box.dest("a.conf")
    box.describe([entry(src, dest, owner=f"root:{NOBODY_GROUP}")])

    assert box.run().returncode == 0
    assert (os.stat(dest).st_uid, os.stat(dest).st_gid) == (0, NOBODY.pw_gid)


def test_replaces_existing_dest_by_rename_without_leftovers(box: Sandbox) -> None:
    src, dest = box.source("a.conf", "new\n"), box.dest("a.conf")
    Path(dest).parent.mkdir(parents=True)
    Path(dest).write_text("old\n")
    old_inode = os.stat(dest).st_ino
    box.describe([entry(src, dest)])

    assert box.run().returncode == 0
    assert Path(dest).read_text() == "new\n"
    assert os.stat(dest).st_ino != old_inode  # renamed into place, not rewritten in place
    assert os.listdir(box.etc) == ["a.conf"]  # no temporary file left behind


def test_replaces_a_directory_standing_where_the_file_goes(box: Sandbox) -> None:
    src, dest = box.source("a.conf", "file\n"), box.dest("a.conf")
    (Path(dest) / "junk").mkdir(parents=True)
    box.describe([entry(src, dest)])

    assert box.run().returncode == 0
    assert Path(dest).is_file()
    assert Path(dest).read_text() == "file\n"


def test_copies_directory_tree_and_removes_stale_files(box: Sandbox) -> None:
    box.source("policy.d/a.yaml", "a\n")
    box.source("policy.d/sub/b.yaml", "b\n")
    dest = Path(box.dest("policy.d"))
    (dest / "stale_dir").mkdir(parents=True)
    (dest / "stale_dir" / "x").write_text("x")
    (dest / "stale.yaml").write_text("stale")
    box.describe([entry(str(box.mount / "policy.d"), str(dest), perm="0640")])

    result = box.run()

    assert result.returncode == 0, result.stderr
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == [
        "a.yaml",
        "sub",
        "sub/b.yaml",
    ]
    assert (dest / "sub" / "b.yaml").read_text() == "b\n"
    assert mode(dest / "a.yaml") == 0o640
    assert mode(dest / "sub") == 0o750  # directories get x where perm has r
    assert os.stat(dest / "sub" / "b.yaml").st_uid == NOBODY.pw_uid
    assert "(2 files," in result.stderr


def test_directory_source_ignores_kubernetes_configmap_bookkeeping(box: Sandbox) -> None:
    box.source("cm/..2024_01_01/app.conf", "from configmap\n")
    (box.mount / "cm" / "..data").symlink_to("..2024_01_01")
    (box.mount / "cm" / "app.conf").symlink_to("..data/app.conf")
    dest = Path(box.dest("app"))
    box.describe([entry(str(box.mount / "cm"), str(dest))])

    assert box.run().returncode == 0
    assert sorted(os.listdir(dest)) == ["app.conf"]
    assert not (dest / "app.conf").is_symlink()
    assert (dest / "app.conf").read_text() == "from configmap\n"


def test_copy_always_restores_local_changes(box: Sandbox) -> None:
    src, dest = box.source("a.conf", "mounted\n"), box.dest("a.conf")
    box.describe([entry(src, dest)])
    assert box.run().returncode == 0
    Path(dest).write_text("edited in the container\n")

    assert box.run(TELEMETRY_CONFIG_STRATEGY="COPY_ALWAYS").returncode == 0
    assert Path(dest).read_text() == "mounted\n"
    assert not box.marker.exists()


def test_copy_once_second_run_leaves_files_alone(box: Sandbox) -> None:
    src, dest = box.source("a.conf", "first\n"), box.dest("a.conf")
    box.describe([entry(src, dest)])
    assert box.run(TELEMETRY_CONFIG_STRATEGY="COPY_ONCE").returncode == 0
    assert Path(dest).read_text() == "first\n"
    assert box.marker.exists()
    Path(dest).write_text("edited in the container\n")
    Path(src).write_text("second\n")

    result = box.run(TELEMETRY_CONFIG_STRATEGY="COPY_ONCE")

    assert result.returncode == 0
    assert Path(dest).read_text() == "edited in the container\n"
    assert "already configured" in result.stderr


def test_unknown_strategy_exits_5_and_copies_nothing(box: Sandbox) -> None:
    src, dest = box.source("a.conf"), box.dest("a.conf")
    box.describe([entry(src, dest)])

    result = box.run(TELEMETRY_CONFIG_STRATEGY="COPY_SOMETIMES")

    assert_clean_error(result, 5, "COPY_SOMETIMES", "COPY_ALWAYS", "COPY_ONCE")
    assert not os.path.exists(dest)


def test_missing_source_exits_3_and_copies_nothing(box: Sandbox) -> None:
    present, dest = box.source("present.conf"), box.dest("present.conf")
    missing = str(box.mount / "missing.conf")
    box.describe([entry(present, dest), entry(missing, box.dest("missing.conf"))])

    result = box.run()

    assert_clean_error(result, 3, missing, "optional", "Nothing was copied")
    assert not box.etc.exists()


def test_optional_missing_source_is_skipped(box: Sandbox) -> None:
    present, dest = box.source("present.conf"), box.dest("present.conf")
    missing = str(box.mount / "missing.conf")
    box.describe([entry(missing, box.dest("missing.conf"), optional=True), entry(present, dest)])

    result = box.run()

    assert result.returncode == 0, result.stderr
    assert os.path.exists(dest)
    assert not os.path.exists(box.dest("missing.conf"))
    assert f"skipped {missing}" in result.stderr


@pytest.mark.parametrize(
    ("owner", "unknown"),
    [("no-such-user-x", "user 'no-such-user-x'"), ("nobody:no-such-group-x", "no-such-group-x")],
)
def test_unknown_owner_exits_4_and_copies_nothing(box: Sandbox, owner: str, unknown: str) -> None:
    first, second = box.source("a.conf"), box.source("b.conf")
    box.describe([entry(first, box.dest("a.conf")), entry(second, box.dest("b.conf"), owner)])

    result = box.run()

    assert_clean_error(result, 4, unknown, box.dest("b.conf"))
    assert not box.etc.exists()


def test_unknown_owner_in_permissions_exits_4(box: Sandbox) -> None:
    src = box.source("a.conf")
    box.describe(
        [entry(src, box.dest("a.conf"))],
        permissions=[{"path": str(box.root), "owner": "no-such-user-x"}],
    )

    assert_clean_error(box.run(), 4, "no-such-user-x")
    assert not box.etc.exists()


def test_filesystem_failure_exits_7(box: Sandbox) -> None:
    src = box.source("a.conf")
    (box.root / "blocker").write_text("a file where a directory should be")
    box.describe([entry(src, str(box.root / "blocker" / "a.conf"))])

    assert_clean_error(box.run(), 7, "cannot copy", "blocker")


def test_permissions_recursive_and_not(box: Sandbox) -> None:
    logs, data = box.root / "log", box.root / "data"
    for top in (logs, data):
        (top / "sub").mkdir(parents=True)
        (top / "sub" / "file").write_text("x")
    box.describe(
        permissions=[
            {"path": str(logs), "owner": "nobody", "recurse": True, "perm": "0640"},
            {"path": str(data), "owner": "nobody"},
            {"path": str(box.root / "absent"), "owner": "nobody"},
        ]
    )

    result = box.run()

    assert result.returncode == 0, result.stderr
    for path in (logs, logs / "sub", logs / "sub" / "file", data):
        assert os.stat(path).st_uid == NOBODY.pw_uid, path
    assert mode(logs / "sub") == 0o750
    assert mode(logs / "sub" / "file") == 0o640
    assert os.stat(data / "sub").st_uid == 0
    assert os.stat(data / "sub" / "file").st_uid == 0
    assert "skipped permissions on" in result.stderr


# --- config.json validation ---------------------------------------------------------------


def test_bad_json_exits_2(box: Sandbox) -> None:
    box.config.write_text('{"command": "true",')

    assert_clean_error(box.run(), 2, str(box.config), "not valid JSON")


def test_missing_config_json_exits_2(box: Sandbox) -> None:
    assert_clean_error(box.run(), 2, str(box.config), "does not exist", "TELEMETRY_CONFIG_FILE")


@pytest.mark.parametrize(
    ("description", "complaint"),
    [
        ([], "top level must be a JSON object"),
        ({"config_files": []}, "'command'"),
        ({"command": "true", "config_files": [{"source": "/a", "dest": "/b"}]}, "'owner'"),
        ({"command": "true", "config_files": [entry("/a", "/b", perm="rw")]}, "'perm'"),
        ({"command": "true", "config_files": [entry("/a", "relative")]}, "must be absolute"),
        ({"command": "true", "config_files": [entry("/a", "/b", optional="yes")]}, "boolean"),
        ({"command": "true", "config_files": [entry("/a", "/b", optinal=True)]}, "optinal"),
        ({"command": "true", "config_files": [entry("/a", "/b", owner="a:b:c")]}, "'owner'"),
        ({"command": "true", "permissions": [{"path": "/a"}]}, "permissions[0]"),
    ],
)
def test_invalid_description_exits_2(box: Sandbox, description: Any, complaint: str) -> None:
    box.config.write_text(json.dumps(description))

    assert_clean_error(box.run(), 2, complaint)


# --- --check ------------------------------------------------------------------------------


def _copied(box: Sandbox) -> tuple[str, str]:
    src, dest = box.source("a.conf", "same\n"), box.dest("a.conf")
    box.describe([entry(src, dest, owner="nobody", perm="0640")])
    assert box.run().returncode == 0
    return src, dest


def test_check_exits_0_when_in_place(box: Sandbox) -> None:
    _copied(box)

    result = box.run("--check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        (lambda src, dest: Path(src).write_text("changed\n"), "content differs"),
        (lambda src, dest: os.chmod(dest, 0o644), "mode 0644 (expected 0640)"),
        (
            lambda src, dest: os.chown(dest, 0, 0),
            f"owner root:root (expected nobody:{NOBODY_GROUP})",
        ),
        (lambda src, dest: os.unlink(dest), "missing"),
    ],
)
def test_check_exits_1_and_names_the_dest(box: Sandbox, change: Any, difference: str) -> None:
    src, dest = _copied(box)
    change(src, dest)

    result = box.run("--check")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{dest}: {difference}"]


def test_check_reports_every_difference_of_a_file_on_one_line(box: Sandbox) -> None:
    _, dest = _copied(box)
    Path(dest).write_text("changed\n")
    os.chmod(dest, 0o600)

    result = box.run("--check")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{dest}: content differs; mode 0600 (expected 0640)"]


def test_check_reports_tree_differences(box: Sandbox) -> None:
    box.source("tree/a", "a\n")
    dest = Path(box.dest("tree"))
    box.describe([entry(str(box.mount / "tree"), str(dest))])
    assert box.run().returncode == 0
    (dest / "extra").write_text("not from the mount")
    box.source("tree/a", "changed\n")

    result = box.run("--check")

    assert result.returncode == 1
    assert sorted(result.stdout.splitlines()) == [
        f"{dest}/a: content differs",
        f"{dest}/extra: not in source {box.mount / 'tree'}",
    ]


def test_check_does_not_modify_anything(box: Sandbox) -> None:
    src, dest = _copied(box)
    Path(src).write_text("changed\n")

    assert box.run("--check").returncode == 1
    assert Path(dest).read_text() == "same\n"


# --- commands and usage -------------------------------------------------------------------


def test_command_and_bootstrap_command_are_printed(box: Sandbox) -> None:
    box.describe(command="/usr/bin/uwsgi --ini /etc/g.ini", bootstrap_command="gnocchi-upgrade")

    command, bootstrap = box.run("--command"), box.run("--bootstrap-command")

    assert (command.returncode, command.stdout) == (0, "/usr/bin/uwsgi --ini /etc/g.ini\n")
    assert (bootstrap.returncode, bootstrap.stdout) == (0, "gnocchi-upgrade\n")


def test_bootstrap_command_missing_exits_6(box: Sandbox) -> None:
    box.describe(command="/usr/bin/gnocchi-metricd")

    result = box.run("--bootstrap-command")

    assert_clean_error(result, 6, "no bootstrap_command", "TELEMETRY_BOOTSTRAP")
    assert result.stdout == ""


def test_command_does_not_copy(box: Sandbox) -> None:
    src, dest = box.source("a.conf"), box.dest("a.conf")
    box.describe([entry(src, dest)])

    assert box.run("--command").returncode == 0
    assert not os.path.exists(dest)


@pytest.mark.parametrize("args", [["--bogus"], ["--check", "--command"], ["extra"]])
def test_usage_error_exits_64(box: Sandbox, args: list[str]) -> None:
    box.describe()

    assert box.run(*args).returncode == 64


def test_scripts_are_executable() -> None:
    for script in (SET_CONFIGS, START, RUNTIME / "healthcheck.py"):
        assert os.access(script, os.X_OK), script


# --- telemetry_start ----------------------------------------------------------------------


def start(box: Sandbox, *args: str, **env: str) -> tuple[int, int]:
    """Run telemetry_start; (exit code, pid of the process we started)."""
    proc = subprocess.Popen(
        [str(START), *args], env=box.environ(**env), stderr=subprocess.PIPE, text=True
    )
    _, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr
    return proc.returncode, proc.pid


def _describe_service(box: Sandbox, **commands: str) -> str:
    """config.json with one file and the given commands (default: write service.out); dest."""
    src, dest = box.source("a.conf", "service config\n"), box.dest("a.conf")
    commands.setdefault("command", f"echo service > {box.service_out}")
    box.describe([entry(src, dest)], **commands)
    return dest


def test_start_copies_configs_then_execs_the_command(box: Sandbox) -> None:
    out = box.service_out
    inner = f"cat {box.dest('a.conf')} > {out}; echo $$ >> {out}; exit 5"
    _describe_service(box, command=f"sh -c {shlex.quote(inner)}")

    code, pid = start(box)

    assert code == 5  # the service's exit code is the container's
    config_line, pid_line = out.read_text().splitlines()
    assert config_line == "service config"  # configs were in place before it started
    assert int(pid_line) == pid  # exec'd all the way: the service replaced telemetry_start


def test_start_bootstrap_runs_bootstrap_command_and_exits_with_its_code(box: Sandbox) -> None:
    out = box.root / "bootstrap.out"
    _describe_service(box, bootstrap_command=f"cat {box.dest('a.conf')} > {out} && exit 7")

    code, _ = start(box, TELEMETRY_BOOTSTRAP="yes")

    assert code == 7
    assert out.read_text() == "service config\n"
    assert not box.service_out.exists()


def test_start_bootstrap_without_bootstrap_command_exits_6(box: Sandbox) -> None:
    _describe_service(box)

    code, _ = start(box, TELEMETRY_BOOTSTRAP="1")

    assert code == 6
    assert not box.service_out.exists()


def test_start_empty_bootstrap_variable_runs_the_service(box: Sandbox) -> None:
    _describe_service(box, bootstrap_command="exit 9")

    code, _ = start(box, TELEMETRY_BOOTSTRAP="")

    assert code == 0
    assert box.service_out.read_text() == "service\n"


def test_start_arguments_replace_the_command(box: Sandbox) -> None:
    dest = _describe_service(box, bootstrap_command="exit 9")
    out = box.root / "args.out"

    code, pid = start(box, "sh", "-c", 'echo "$$ $1" > "$0"; exit 3', str(out), "two words")

    assert code == 3
    assert out.read_text() == f"{pid} two words\n"
    assert not box.service_out.exists()
    assert os.path.exists(dest)  # configs are still put in place first


@pytest.mark.parametrize(("broken", "code"), [("json", 2), ("source", 3)])
def test_start_stops_with_set_configs_exit_code(box: Sandbox, broken: str, code: int) -> None:
    _describe_service(box)
    if broken == "json":
        box.config.write_text("{")
    else:
        os.unlink(box.mount / "a.conf")

    assert start(box)[0] == code
    assert not box.service_out.exists()


def test_start_drops_to_the_configured_user(box: Sandbox) -> None:
    # pytest's tmp dirs are root-only: the proof goes where nobody can write it.
    with tempfile.NamedTemporaryFile(dir="/tmp", suffix=".whoami") as handle:
        out = Path(handle.name)
        out.chmod(0o666)
        _describe_service(box, command=f"sh -c 'id -un > {out}'", user="nobody")

        code, _ = start(box)

        assert code == 0
        assert out.read_text() == "nobody\n"
    assert os.path.exists(box.dest("a.conf"))  # files were put in place (as root) first


def test_set_configs_user_must_exist(box: Sandbox) -> None:
    _describe_service(box, user="no-such-user")

    code, _ = start(box)

    assert code == 4
    assert not box.service_out.exists()
