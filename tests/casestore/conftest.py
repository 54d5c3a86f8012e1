"""Fixtures: every case-store test runs against SQLite and the real PostgreSQL.

PostgreSQL isolation: one template database per test run (`hl_tpl_<run id>`, migrated
once), and a fresh database cloned from it per test, dropped afterwards; names carry the
process id and a random suffix, so parallel runs of the suite never meet.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from casestore import Store, StoreSettings, open_store, upgrade
from casestore.dialect import create_engine

PG_HOST = os.environ.get("HOTLINE_TEST_PG", "postgres@127.0.0.1:5432")
PG_ADMIN = f"postgresql://{PG_HOST}/test"
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
_counter = itertools.count()


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_HOST}/{database}"


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(PG_ADMIN, timeout=10)


async def create_database(name: str, template: str | None = None) -> None:
    conn = await _admin()
    try:
        suffix = f' TEMPLATE "{template}" STRATEGY WAL_LOG' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()


async def drop_database(name: str) -> None:
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def drop_stale_databases() -> None:
    """Databases left by runs on this machine whose process is gone (killed test runs)."""
    conn = await _admin()
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'hl\\_tpl\\_%' OR datname LIKE 'hl\\_test\\_%'"
        )
        for (db,) in names:
            pid = db.split("_")[2]
            if pid.isdigit() and not _alive(int(pid)):
                await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    finally:
        await conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"hl_tpl_{RUN_ID}"

    async def build() -> None:
        await drop_stale_databases()
        await create_database(name)
        engine = create_engine(pg_url(name))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    _in_thread(build())
    yield name
    _in_thread(drop_database(name))


def _in_thread(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion on its own loop (callers may be inside a running loop)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result(timeout=60)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def empty_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database (no schema)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
        return
    name = f"hl_test_{RUN_ID}_{next(_counter)}"
    await create_database(name)
    try:
        yield pg_url(name)
    finally:
        await drop_database(name)


@pytest.fixture
async def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A URL of a database at the current schema revision."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
        engine = create_engine(url, create=True)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url
        return
    template = request.getfixturevalue("pg_template")
    name = f"hl_test_{RUN_ID}_{next(_counter)}"
    await create_database(name, template)
    try:
        yield pg_url(name)
    finally:
        await drop_database(name)


@pytest.fixture
async def store(db_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path / "data")) as opened:
        yield opened
