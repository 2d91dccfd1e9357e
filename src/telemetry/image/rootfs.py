"""The base image's root filesystem, from debootstrap: there is no registry to pull from.

The mirror comes from the host's apt configuration or an option; no mirror host is written here.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from telemetry.common.errors import BadInput

VARIANT = "minbase"
_APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))


class RootfsError(BadInput):
    """debootstrap is missing, failed, or no mirror is known.

    Bad input for the CLI (it is raised before anything is built when no mirror is known);
    during a build the builder marks the base image failed instead."""


@dataclass(frozen=True)
class Mirrors:
    debian: str
    security: str


@dataclass(frozen=True)
class RootfsSpec:
    suite: str
    variant: str
    mirror: str

    @property
    def content_hash(self) -> str:
        text = f"debootstrap {self.variant} {self.suite} {self.mirror}"
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def host_mirrors(debian: str | None = None, security: str | None = None,
                 sources: tuple[Path, ...] = _APT_SOURCES) -> Mirrors:
    """Mirrors from the options, else from the host's apt sources (deb822 or one-line)."""
    found_debian, found_security = _scan_sources(sources)
    debian = debian or found_debian
    security = security or found_security
    if not debian:
        raise RootfsError("no Debian mirror found in the host's apt sources: pass "
                          "--debian-mirror URL (and --debian-security-mirror URL)")
    if not security:
        raise RootfsError("no Debian security mirror found in the host's apt sources: pass "
                          "--debian-security-mirror URL")
    return Mirrors(debian=debian.rstrip("/"), security=security.rstrip("/"))


def _scan_sources(sources: tuple[Path, ...]) -> tuple[str | None, str | None]:
    debian = security = None
    for uri, suites in _source_entries(sources):
        # The host's own release does not matter: one mirror serves every release.
        if any(s.endswith("-security") for s in suites):
            security = security or uri
        elif any("-" not in s for s in suites):
            debian = debian or uri
    return debian, security


def _source_entries(sources: tuple[Path, ...]) -> list[tuple[str, list[str]]]:
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files += sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        elif source.is_file():
            files.append(source)
    entries: list[tuple[str, list[str]]] = []
    for path in files:
        text = path.read_text(errors="replace")
        entries += _deb822_entries(text) if path.suffix == ".sources" else _one_line_entries(text)
    return entries


def _deb822_entries(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(("#", " ")):
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
        if fields.get("types", "deb").split()[0] == "deb" and "uris" in fields:
            suites = fields.get("suites", "").split()
            entries += [(uri, suites) for uri in fields["uris"].split()]
    return entries


def _one_line_entries(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for line in text.splitlines():
        words = [w for w in line.split() if not w.startswith("[")]
        if len(words) >= 3 and words[0] == "deb":
            entries.append((words[1], [words[2]]))
    return entries


def debootstrap_tarball(spec: RootfsSpec, work_dir: Path, log: Path) -> Path:
    """Run debootstrap and pack the tree into a tarball the caller builds FROM scratch."""
    if shutil.which("debootstrap") is None:
        raise RootfsError("debootstrap is not installed: run the README's set-up command "
                          "(tools/setup-host.sh) or `apt-get install debootstrap`")
    tree = Path(tempfile.mkdtemp(prefix="rootfs-", dir=work_dir))
    tarball = work_dir / "rootfs.tar"
    try:
        with log.open("a") as out:
            _run(["debootstrap", f"--variant={spec.variant}", spec.suite, str(tree), spec.mirror],
                 out)
            _run(["tar", "--numeric-owner", "-C", str(tree), "-cf", str(tarball), "."], out)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    return tarball


def _run(command: list[str], out) -> None:
    out.write(f"$ {' '.join(command)}\n")
    out.flush()
    result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise RootfsError(f"{command[0]} failed with exit code {result.returncode}; "
                          f"see {out.name}")
