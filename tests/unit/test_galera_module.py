"""What the telemetry_galera module reads from, and writes to, a Galera node's grastate.dat
(real files in a temporary data directory; the volume lookup and --wsrep-recover run in the
multinode scenario against real nodes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_ansible_file

galera = load_ansible_file("library/telemetry_galera.py", "telemetry_galera")

GRASTATE = """\
# GALERA saved state
version: 2.1
uuid:    4126dbe6-ef0d-11f1-bf4b-124d7aaa1731
seqno:   {seqno}
safe_to_bootstrap: {safe}
"""


def data_dir(tmp_path: Path, seqno: int = 59, safe: int = 0) -> Path:
    (tmp_path / "grastate.dat").write_text(GRASTATE.format(seqno=seqno, safe=safe))
    return tmp_path


def test_a_node_that_shut_down_cleanly_knows_its_position(tmp_path: Path) -> None:
    state = galera.read_state(data_dir(tmp_path, seqno=59, safe=1))
    assert state == galera.NodeState(volume=True, uuid="4126dbe6-ef0d-11f1-bf4b-124d7aaa1731",
                                     seqno=59, safe_to_bootstrap=True)


def test_a_crashed_node_says_seqno_minus_one(tmp_path: Path) -> None:
    state = galera.read_state(data_dir(tmp_path, seqno=-1))
    assert (state.seqno, state.safe_to_bootstrap) == (-1, False)


def test_no_volume_and_no_grastate_are_told_apart(tmp_path: Path) -> None:
    assert galera.read_state(None) == galera.NodeState(volume=False)
    assert galera.read_state(tmp_path) == galera.NodeState(volume=True)


def test_marking_safe_to_bootstrap_changes_that_line_only(tmp_path: Path) -> None:
    directory = data_dir(tmp_path, seqno=-1, safe=0)
    assert galera.mark_safe_to_bootstrap(directory) is True
    text = (directory / "grastate.dat").read_text()
    assert text == GRASTATE.format(seqno=-1, safe=1)
    assert galera.mark_safe_to_bootstrap(directory) is False


def test_a_node_that_never_joined_cannot_be_marked(tmp_path: Path) -> None:
    with pytest.raises(galera.ModuleError, match="never joined a cluster"):
        galera.mark_safe_to_bootstrap(tmp_path)
