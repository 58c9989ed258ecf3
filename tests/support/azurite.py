"""The `azurite` fixture: Azure Storage's blob emulator from node_modules, on a free loopback port.

Started once per session on first use and stopped at its end. Tests may `stop()` and
`start()` it to play an outage; it comes back on the same port with the same data folder.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT, LocalServer, free_port

AZURITE_BLOB = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
# The emulator's published development account; not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Azurite(LocalServer):
    """Azurite's blob service; it keeps its blobs under ``location``, so they survive a restart."""

    program = "azurite-blob"
    executable = AZURITE_BLOB

    def __init__(self, location: Path, port: int) -> None:
        super().__init__(location.parent / f"{location.name}.log", port)
        self.location = location
        self.endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
        self.connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )

    def command(self) -> list[str]:
        return [
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

    def answering(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    server = Azurite(tmp_path_factory.mktemp("azurite"), free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
