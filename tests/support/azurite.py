"""The `azurite` fixture: Azure Storage's blob emulator from node_modules, on a free loopback port.

Started once per session on first use and stopped at its end. Tests may `stop()` and
`start()` it to play an outage; it comes back on the same port with the same data folder.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).parents[2]
AZURITE_BLOB = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
# The emulator's published development account; not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT_SECONDS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Linux only: if pytest itself is killed, the emulator goes too instead of holding the port.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Azurite:
    def __init__(self, location: Path, port: int) -> None:
        self.location = location
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
        self.connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )
        self._process: subprocess.Popen[bytes] | None = None
        self._log = location.parent / f"{location.name}.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        if not AZURITE_BLOB.exists():
            pytest.fail(
                f"{AZURITE_BLOB} is missing: run scripts/test (it installs the npm packages the suite needs)",
                pytrace=False,
            )
        command = [
            str(AZURITE_BLOB),
            "--skipApiVersionCheck",
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--location",
            str(self.location),
            "--silent",
        ]
        log = open(self._log, "ab")  # noqa: SIM115 - the child keeps writing to it after we return
        try:
            self._process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        finally:
            log.close()
        self._wait_until_answering()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # SIGTERM lets Azurite save its metadata database, so blobs survive a restart.
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                self._fail(f"azurite-blob exited with code {self._process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            time.sleep(0.05)
        self.stop()
        self._fail(f"azurite-blob did not answer on 127.0.0.1:{self.port} within {START_TIMEOUT_SECONDS} s")

    def _fail(self, why: str) -> None:
        tail = self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""
        pytest.fail(f"{why}\n--- azurite log ---\n{tail}", pytrace=False)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    server = Azurite(tmp_path_factory.mktemp("azurite"), free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
