"""Running the API under uvicorn, in the foreground (``serve``) or in a background thread
(the main job posts to it over real HTTP, as a mobile app and a gateway would)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from shared.api.app import create_app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def api_in_background(host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Serve the API on a thread; yields its base URL and stops it on exit."""
    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="gridledger-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
