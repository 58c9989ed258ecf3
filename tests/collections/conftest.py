"""Fixtures for collections: the embedded platform on a copy of a database already holding
the sample utility (seeding it through the customer records service takes about a second,
copying the file a few milliseconds), and the API with the collections router included."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shared.demo.sample_utility import seed_sample_utility
    from shared.platform.documents.sqlite_store import SqliteDocumentStore
    from tests.collections.support import SEEDED_AT
    from tests.conftest import Clock

    path = tmp_path_factory.mktemp("seeded") / "gridledger.sqlite3"
    store = SqliteDocumentStore(path)
    try:
        seed_sample_utility(store, clock=Clock(SEEDED_AT))
    finally:
        store.close()
    return path


@pytest.fixture
def platform(tmp_path, clock, seeded_database) -> Iterator:
    """The conftest's embedded platform, starting from the seeded database."""
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform

    settings = load_settings(data_dir=tmp_path / "var")
    settings.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seeded_database, settings.sqlite_file)
    built = build_platform(settings, clock=clock)
    use_platform(built)
    yield built
    use_platform(None)
    built.close()


@pytest.fixture
def api(platform) -> Iterator:
    from fastapi.testclient import TestClient

    from shared.api import collections_routes
    from shared.api.app import create_app

    app = create_app(max_request_bytes=64 * 1024)
    if not any(getattr(route, "path", "") == "/v1/field-orders" for route in app.routes):
        app.include_router(collections_routes.router)
    with TestClient(app) as client:
        yield client
