from __future__ import annotations

from pathlib import Path

import pytest

from telemetry.image.rootfs import RootfsError, RootfsSpec, host_mirrors

DEB822 = """Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_mirrors_from_deb822_sources(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(DEB822)
    mirrors = host_mirrors(sources=(tmp_path,))
    assert mirrors.debian == "http://mirror.example/debian"
    assert mirrors.security == "http://security.example/debian-security"


def test_mirrors_from_one_line_sources(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text("deb [arch=amd64] http://m.example/debian/ bookworm main\n"
                       "deb http://s.example/debian-security bookworm-security main\n")
    mirrors = host_mirrors(sources=(sources,))
    assert mirrors.debian == "http://m.example/debian"
    assert mirrors.security == "http://s.example/debian-security"


def test_options_win_over_host_sources(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(DEB822)
    mirrors = host_mirrors("http://other/debian", None, sources=(tmp_path,))
    assert mirrors.debian == "http://other/debian"


def test_no_mirror_says_which_option_to_pass(tmp_path: Path) -> None:
    with pytest.raises(RootfsError, match="--debian-mirror"):
        host_mirrors(sources=(tmp_path,))


def test_rootfs_hash_depends_on_inputs_only() -> None:
    one = RootfsSpec("bookworm", "minbase", "http://a/debian")
    assert one.content_hash == RootfsSpec("bookworm", "minbase", "http://a/debian").content_hash
    assert one.content_hash != RootfsSpec("bookworm", "minbase", "http://b/debian").content_hash
