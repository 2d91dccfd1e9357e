"""telemetry_keystone_keys, run as the real script against temp dirs, with tokens signed and
checked the way keystone does it: a MultiFernet of the repository's keys, the highest-numbered
(the primary) first, so it signs with the primary and accepts any key present."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SCRIPT = Path(__file__).resolve().parents[2] / "src" / "telemetry" / "runtime" / "keystone_keys.py"
SECRET = "s3cret-Shared-by-every-keystone"
DAY = 86400
# keystone_token_expiration and keystone_token_allow_expired_window (their defaults), and the
# max_active_keys group_vars derives from them for a daily rotation.
EXPIRATION, ALLOW_EXPIRED = 3600, 172800
MAX_ACTIVE_KEYS = math.ceil((EXPIRATION + ALLOW_EXPIRED) / DAY) + 2
T0 = 1_800_000_000.0


class Keystone:
    """One keystone host's key repositories and config file."""

    def __init__(self, root: Path, secret: str = SECRET) -> None:
        root.mkdir()
        self.fernet = root / "fernet-keys"
        self.credential = root / "credential-keys"
        self.fernet.mkdir()
        self.credential.mkdir()
        self.config = root / "keystone-keys.json"
        self.config.write_text(json.dumps({
            "secret": secret, "rotation_interval": DAY, "max_active_keys": MAX_ACTIVE_KEYS,
            "fernet_dir": str(self.fernet), "credential_dir": str(self.credential)}))

    def keys_at(self, when: float) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, str(SCRIPT), str(self.config), "--at",
                                 str(when)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result

    def tokens(self, repository: Path | None = None) -> MultiFernet:
        repository = repository or self.fernet
        names = sorted((p.name for p in repository.iterdir() if p.name.isdigit()), key=int,
                       reverse=True)
        return MultiFernet([Fernet((repository / name).read_bytes()) for name in names])


@pytest.fixture()
def two_keystones(tmp_path: Path) -> tuple[Keystone, Keystone]:
    return Keystone(tmp_path / "api01"), Keystone(tmp_path / "api02")


def test_a_token_signed_by_one_keystone_validates_on_the_other(
        two_keystones: tuple[Keystone, Keystone]) -> None:
    first, second = two_keystones
    first.keys_at(T0)
    second.keys_at(T0 + 120)  # another host, its clock and its run of the script a bit later
    token = first.tokens().encrypt(b"user admin, project admin")
    assert second.tokens().decrypt(token) == b"user admin, project admin"
    assert sorted(p.read_text() for p in first.credential.iterdir()) == sorted(
        p.read_text() for p in second.credential.iterdir())


def test_the_keystone_that_rotated_first_issues_tokens_the_other_accepts(
        two_keystones: tuple[Keystone, Keystone]) -> None:
    first, second = two_keystones
    boundary = (T0 // DAY + 1) * DAY
    first.keys_at(boundary + 1)  # rotated: a new primary
    second.keys_at(boundary - 1)  # not yet
    assert first.tokens().decrypt(second.tokens().encrypt(b"old primary")) == b"old primary"
    assert second.tokens().decrypt(first.tokens().encrypt(b"new primary")) == b"new primary"


def test_a_token_validates_until_its_allowed_expiry_and_its_key_leaves_after(
        tmp_path: Path) -> None:
    keystone = Keystone(tmp_path / "api01")
    keystone.keys_at(T0)
    token = keystone.tokens().encrypt(b"issued at T0")
    keystone.keys_at(T0 + EXPIRATION + ALLOW_EXPIRED)
    assert keystone.tokens().decrypt(token) == b"issued at T0"
    assert len(list(keystone.fernet.iterdir())) == MAX_ACTIVE_KEYS
    keystone.keys_at(T0 + (MAX_ACTIVE_KEYS - 1) * DAY)
    with pytest.raises(InvalidToken):
        keystone.tokens().decrypt(token)
    assert len(list(keystone.fernet.iterdir())) == MAX_ACTIVE_KEYS


def test_credentials_keep_their_keys_across_rotations(tmp_path: Path) -> None:
    keystone = Keystone(tmp_path / "api01")
    keystone.keys_at(T0)
    secret = keystone.tokens(keystone.credential).encrypt(b"an ec2 credential")
    keystone.keys_at(T0 + 30 * DAY)
    assert keystone.tokens(keystone.credential).decrypt(secret) == b"an ec2 credential"


def test_another_secret_refuses_the_token(tmp_path: Path) -> None:
    ours, theirs = Keystone(tmp_path / "ours"), Keystone(tmp_path / "theirs", "another-secret-0123")
    ours.keys_at(T0)
    theirs.keys_at(T0)
    with pytest.raises(InvalidToken):
        theirs.tokens().decrypt(ours.tokens().encrypt(b"x"))


def test_a_rerun_changes_nothing_and_says_nothing(tmp_path: Path) -> None:
    keystone = Keystone(tmp_path / "api01")
    assert "fernet keys of epoch" in keystone.keys_at(T0).stdout
    before = {p.name: p.stat().st_mtime_ns for p in keystone.fernet.iterdir()}
    assert keystone.keys_at(T0 + 60).stdout == ""
    assert {p.name: p.stat().st_mtime_ns for p in keystone.fernet.iterdir()} == before
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in keystone.fernet.iterdir())


def test_keys_left_by_keystone_manage_are_replaced(tmp_path: Path) -> None:
    keystone = Keystone(tmp_path / "api01")
    for name in ("0", "1", "2"):
        (keystone.fernet / name).write_text(Fernet.generate_key().decode())
    keystone.keys_at(T0)
    other = Keystone(tmp_path / "api02")
    other.keys_at(T0)
    assert {p.name: p.read_text() for p in keystone.fernet.iterdir()} == {
        p.name: p.read_text() for p in other.fernet.iterdir()}


@pytest.mark.parametrize(("config", "message"), [
    ("{not json", "is not JSON"),
    (json.dumps({"secret": "short", "rotation_interval": DAY, "max_active_keys": 5,
                 "fernet_dir": "/x", "credential_dir": "/y"}), "telemetry-genpwd"),
    (json.dumps({"secret": SECRET, "rotation_interval": DAY, "max_active_keys": 2,
                 "fernet_dir": "/x", "credential_dir": "/y"}), "at least 3"),
    (json.dumps({"secret": SECRET, "rotation": DAY}), "unknown keys ['rotation']"),
])
def test_a_bad_config_exits_2_naming_the_problem_and_never_the_secret(
        tmp_path: Path, config: str, message: str) -> None:
    path = tmp_path / "keystone-keys.json"
    path.write_text(config)
    result = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_a_missing_repository_exits_7(tmp_path: Path) -> None:
    keystone = Keystone(tmp_path / "api01")
    keystone.fernet.rmdir()
    result = subprocess.run([sys.executable, str(SCRIPT), str(keystone.config)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 7
    assert str(keystone.fernet) in result.stderr
    assert "Traceback" not in result.stderr
