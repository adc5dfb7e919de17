from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import postgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer]:
    if not postgres.available():
        pytest.skip(postgres.MISSING_REASON)
    server = postgres.PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture()
def pg_url(pg_server: postgres.PostgresServer) -> str:
    return pg_server.new_database()
