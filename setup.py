"""Everything but the data files is in setup.cfg.

The CLIs read trees that are not Python packages (kolla_images/, ansible/, kubernetes/,
services/, etc/) and build images from this project's own source; a wheel installs them all
under <prefix>/share/telemetry, where telemetry.paths.project_root() finds them. setup.cfg's
data_files cannot name a tree (each directory would need a line), hence this walk.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
SHARE = Path("share") / "telemetry"
# The data trees, and what the toolbox and ceilometer images pip-install from (image/render.py).
DATA_TREES = ("ansible", "etc", "kolla_images", "kubernetes", "services", "src/telemetry")
DATA_FILES = ("setup.cfg", "pyproject.toml")
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".cache"}


def tree_data_files(tree: str) -> list[tuple[str, list[str]]]:
    """(share/telemetry/<dir>, [files]) for every directory of the tree that holds files.

    Symlinked directories (ansible/module_utils/telemetry_common) are followed, so the share
    gets real copies: a wheel has no symlinks.
    """
    entries = []
    for directory in sorted({tree, *_subdirectories(ROOT / tree)}):
        files = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / directory).iterdir()
                       if path.is_file() and path.suffix != ".pyc")
        if files:
            entries.append(((SHARE / directory).as_posix(), files))
    return entries


def _subdirectories(top: Path) -> list[str]:
    found = []
    for path in top.iterdir():
        if path.is_dir() and path.name not in SKIPPED_PARTS:
            found.append(path.relative_to(ROOT).as_posix())
            found += _subdirectories(path)
    return found


def data_files() -> list[tuple[str, list[str]]]:
    entries = [entry for tree in DATA_TREES for entry in tree_data_files(tree)]
    return [(SHARE.as_posix(), list(DATA_FILES)), *entries]


setup(data_files=data_files())
