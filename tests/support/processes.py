"""A local test server as a child process: started from node_modules on a free loopback
port, waited for until it really answers, stopped (or killed) at the end, and taken down
with pytest if pytest itself dies, so no stray emulator holds a port after a crashed run."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).parents[2]
START_TIMEOUT_SECONDS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Linux only: if pytest is killed, the server goes too instead of holding the port.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalServer:
    """Subclasses name the program, its command line and how to tell it is serving."""

    program: str  # for messages: "azurite-blob", "cosmosdb-server"
    executable: Path  # must exist in node_modules, else the suite says how to install it

    def __init__(self, log: Path, port: int) -> None:
        self.port = port
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def answering(self) -> bool:
        """One quick probe: True once the server serves requests, not merely listens."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        if not self.executable.exists():
            pytest.fail(
                f"{self.executable} is missing: run scripts/test (it installs the npm packages the suite needs)",
                pytrace=False,
            )
        log = open(self._log, "ab")  # noqa: SIM115 - the child keeps writing to it after we return
        try:
            self._process = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        except FileNotFoundError as missing:
            pytest.fail(f"{missing.filename} is not on PATH: run scripts/test on a machine with Node.js 20")
        finally:
            log.close()
        self._wait_until_answering()

    def stop(self) -> None:
        # SIGTERM (not SIGKILL) first: Azurite saves its metadata on it, so blobs survive a restart.
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # a paused process would hold SIGTERM until resumed
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """Freeze the process: connections are accepted by the kernel but never answered."""
        assert self._process is not None, f"{self.program} is not running"
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None, f"{self.program} is not running"
        self._process.send_signal(signal.SIGCONT)

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                self._fail(f"{self.program} exited with code {self._process.returncode}")
            if self.answering():
                return
            time.sleep(0.05)
        self.stop()
        self._fail(f"{self.program} did not answer on 127.0.0.1:{self.port} within {START_TIMEOUT_SECONDS} s")

    def _fail(self, why: str) -> None:
        tail = self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""
        pytest.fail(f"{why}\n--- {self.program} log ---\n{tail}", pytrace=False)
