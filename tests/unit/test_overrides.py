"""Operator overrides under <configdir>/config/: which files apply, in which order, how merged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from telemetry.common.overrides import OverrideError, Scope, merge

SCOPE = Scope(service="gnocchi", container="gnocchi-api", host="control01")
GNOCCHI_CONF = """[DEFAULT]
debug = false
# a comment that the merge may drop
[api]
auth_mode = keystone
[indexer]
url = mysql+pymysql://gnocchi:secret@db/gnocchi
"""


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_no_override_leaves_the_rendered_file_byte_for_byte(tmp_path: Path) -> None:
    merged = merge("gnocchi.conf", GNOCCHI_CONF, tmp_path, SCOPE)
    assert merged.content == GNOCCHI_CONF and merged.applied == ()


def test_ini_overrides_apply_global_project_service_host_in_order(tmp_path: Path) -> None:
    write(tmp_path, "global.conf", "[DEFAULT]\ndebug = true\n")
    write(tmp_path, "gnocchi.conf", "[api]\nauth_mode = basic\nmax_limit = 10\n")
    write(tmp_path, "gnocchi/gnocchi-api/gnocchi.conf", "[api]\nmax_limit = 20\n")
    write(tmp_path, "gnocchi/control01/gnocchi.conf", "[api]\nmax_limit = 30\n")
    write(tmp_path, "gnocchi/control02/gnocchi.conf", "[api]\nmax_limit = 99\n")
    merged = merge("gnocchi.conf", GNOCCHI_CONF, tmp_path, SCOPE)
    assert [path.relative_to(tmp_path).as_posix() for path in merged.applied] == [
        "global.conf", "gnocchi.conf", "gnocchi/gnocchi-api/gnocchi.conf",
        "gnocchi/control01/gnocchi.conf"]
    assert "debug = true" in merged.content
    assert "auth_mode = basic" in merged.content and "max_limit = 30" in merged.content
    assert "url = mysql+pymysql://gnocchi:secret@db/gnocchi" in merged.content


def test_global_conf_does_not_touch_files_that_are_not_ini(tmp_path: Path) -> None:
    write(tmp_path, "global.conf", "[DEFAULT]\ndebug = true\n")
    redis = "bind 127.0.0.1\nrequirepass x\n"
    assert merge("redis.conf", redis, tmp_path, SCOPE).content == redis


def test_a_file_that_is_not_ini_is_replaced_whole_by_the_last_override(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {}\n# project\n")
    write(tmp_path, "gnocchi/control01/nginx.conf", "events {}\n# host\n")
    merged = merge("nginx.conf", "events {}\nhttp {}\n", tmp_path, SCOPE)
    assert merged.content == "events {}\n# host\n"


def test_yaml_overrides_merge_mappings_and_replace_lists(tmp_path: Path) -> None:
    rendered = "---\nsources:\n  - name: a\ndisk:\n  names: [sda]\n  keep: true\n"
    write(tmp_path, "gnocchi/monitor.yaml", "disk:\n  names: [vda, vdb]\n")
    merged = yaml.safe_load(merge("monitor.yaml", rendered, tmp_path, SCOPE).content)
    assert merged == {"sources": [{"name": "a"}], "disk": {"names": ["vda", "vdb"], "keep": True}}


def test_a_broken_override_fails_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path, "gnocchi.conf", "this is not [ini\n")
    with pytest.raises(OverrideError, match=r"gnocchi\.conf is not a valid INI file"):
        merge("gnocchi.conf", GNOCCHI_CONF, tmp_path, SCOPE)
