"""Run Debian's snmpd on a loopback port, for the tests and the benchmark (never in production).

Each agent gets its own config (a random v2c community readable from 127.0.0.1 only, disk and
diskIO tables on), its own persistent directory, and is ready when it answers a GET and its CPU
counters have been loaded once (snmpd reads /proc/stat every 5 s, and all zeros before).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from telemetry.snmp import oids
from telemetry.snmp.client import ClientSettings, SnmpClient, SnmpError
from telemetry.snmp.target import SnmpTarget

SNMPD = "/usr/sbin/snmpd"
# hrStorageTable and diskIOTable answer without includeAllDisks (it fills UCD dskTable, which
# the pollsters do not read); it is here because the deploy's snmpd.conf has it.
CONFIG = """agentAddress udp:127.0.0.1:{port}
rocommunity {community} 127.0.0.1
includeAllDisks 1%
dontLogTCPWrappersConnects yes
"""


def free_udp_port() -> int:
    """A UDP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalAgent:
    """One snmpd process; `resource` is its polling.yaml-style snmp:// URL."""

    port: int = 0
    community: str = field(default_factory=lambda: "t" + secrets.token_hex(8), repr=False)
    # A whole snmpd.conf to use instead of CONFIG, formatted with {port} and {community}.
    config: str = field(default=CONFIG, repr=False)
    workdir: Path | None = None
    process: subprocess.Popen | None = None
    _log: IO[str] | None = field(default=None, repr=False)

    @property
    def resource(self) -> str:
        return f"snmp://{self.community}@127.0.0.1:{self.port}"

    @property
    def target(self) -> SnmpTarget:
        return SnmpTarget("127.0.0.1", self.port, self.community)

    def start(self, wait_cpu: bool = True, timeout: float = 20.0) -> LocalAgent:
        """Launch snmpd and wait until it answers (on a new port if a chosen one was taken)."""
        chosen = not self.port
        for attempt in range(3):
            self.launch()
            try:
                self.wait_ready(wait_cpu, timeout)
                return self
            except RuntimeError:
                if not chosen or attempt == 2:
                    raise
                self.port = 0
        return self

    def launch(self) -> LocalAgent:
        """Start snmpd in the foreground (-f), logging to stdout (-Lo), our config only (-C)."""
        if self.process and self.process.poll() is None:
            raise RuntimeError(f"snmpd already runs on 127.0.0.1:{self.port}")
        self.workdir = Path(tempfile.mkdtemp(prefix="snmpd-test-"))
        self.port = self.port or free_udp_port()
        conf = self.workdir / "snmpd.conf"
        conf.write_text(self.config.format(port=self.port, community=self.community))
        env = {**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(self.workdir)}
        self._log = (self.workdir / "log").open("w")
        self.process = subprocess.Popen(
            [SNMPD, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(self.workdir / "pid")],
            stdout=self._log, stderr=subprocess.STDOUT, env=env)
        return self

    def wait_ready(self, wait_cpu: bool = True, timeout: float = 20.0) -> None:
        """Wait until snmpd answers a GET (and has loaded its CPU counters once)."""
        client = SnmpClient(self.target, ClientSettings(timeout=0.3, retries=0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                break
            try:
                user = client.get([oids.CPU_RAW["user"]]).get(oids.CPU_RAW["user"])
                if not wait_cpu or user:
                    return
            except SnmpError:
                pass
            time.sleep(0.2)
        log = (self.workdir / "log").read_text() if self.workdir else ""
        self.stop()
        raise RuntimeError(f"snmpd on 127.0.0.1:{self.port} did not become ready:\n{log}")

    def stop(self) -> None:
        """Stop snmpd (SIGTERM, then SIGKILL) and remove its directory."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._log:
            self._log.close()
            self._log = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> LocalAgent:
        return self if self.process else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
