"""Test-wide fixtures. The local servers (Azurite, the Cosmos DB REST server, an SMTP
server) are started by these plugins on first use and stopped when the session ends, so
`scripts/test` needs nothing installed by hand beyond what it installs itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

pytest_plugins = [
    "tests.support.cosmos_server",
    "tests.support.azurite",
    "tests.support.smtp_server",
]


class Clock:
    """A clock the test moves by hand: the billing engine's notion of now."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def platform(tmp_path, clock) -> Iterator:
    """The embedded platform in a temporary folder, installed as the process's platform."""
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform

    built = build_platform(load_settings(data_dir=tmp_path / "var"), clock=clock)
    use_platform(built)
    yield built
    use_platform(None)
    built.close()


@pytest.fixture
def api(platform):
    from fastapi.testclient import TestClient

    from shared.api.app import create_app

    with TestClient(create_app(max_request_bytes=64 * 1024)) as client:
        yield client
