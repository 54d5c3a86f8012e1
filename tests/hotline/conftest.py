"""Fixtures of the server tests: a migrated SQLite store, a fresh PostgreSQL database, and a
TCP relay in front of PostgreSQL (to take the database away and bring it back)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from casestore.store import open_store
from tests.casestore.conftest import RUN_ID, create_database, drop_database, pg_url
from tests.state.proxy import RedisRelay

PG = ("127.0.0.1", 5432)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    return url


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    name = f"hl_test_{RUN_ID}_health_{uuid.uuid4().hex[:6]}"
    await create_database(name)
    try:
        async with open_store(pg_url(name), create=True):
            pass
        yield name
    finally:
        await drop_database(name)


@pytest.fixture
async def relay() -> AsyncIterator[RedisRelay]:
    relay = RedisRelay(PG)
    await relay.start()
    yield relay
    if relay._server is not None:
        await relay.stop()
