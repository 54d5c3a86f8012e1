from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from casestore import SchemaError, check_schema, open_store, upgrade
from casestore.dialect import create_engine
from casestore.schema import current_revision, head_revision

TABLES = {
    "calls", "ivr_steps", "recordings", "customers", "cases", "case_notes", "case_counters",
    "agent_sessions", "agent_pauses", "survey_answers", "menu_versions", "menu_active", "runtime_settings",
    "alembic_version",
}


async def test_upgrade_from_empty_creates_every_table_and_is_repeatable(empty_url: str) -> None:
    engine = create_engine(empty_url, create=True)
    try:
        assert await current_revision(engine) is None
        before, after = await upgrade(engine)
        assert (before, after) == (None, head_revision())
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            indexes = await conn.run_sync(lambda c: inspect(c).get_indexes("cases"))
        assert names >= TABLES
        assert any(ix["column_names"] == ["customer_id", "opened_at"] for ix in indexes)
        assert await upgrade(engine) == (head_revision(), head_revision())
        assert await check_schema(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_server_refuses_a_database_without_schema(empty_url: str) -> None:
    engine = create_engine(empty_url, create=True)  # the database exists, with no schema
    async with engine.connect():
        pass
    await engine.dispose()
    with pytest.raises(SchemaError, match="hotline db upgrade") as info:
        async with open_store(empty_url):
            pass
    assert info.value.current is None
    assert info.value.expected == head_revision()


async def test_server_refuses_an_unknown_revision(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
        with pytest.raises(SchemaError, match="unknown schema revision 'ffff_from_the_future'"):
            await check_schema(engine)
        with pytest.raises(SchemaError, match="does not know"):
            await upgrade(engine)
    finally:
        await engine.dispose()


async def test_upgrade_from_0001_keeps_ivr_steps_and_widens_their_key(empty_url: str) -> None:
    engine = create_engine(empty_url, create=True)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO ivr_steps (call_id, at, node, kind, input) VALUES ('c1', 1.0, 'menu', 'timeout', NULL)"
            ))
        assert await upgrade(engine) == ("0001", head_revision())
        insert = text(
            "INSERT INTO ivr_steps (call_id, at, node, kind, seq) VALUES ('c1', 1.0, 'menu', 'timeout', :seq)"
        )
        async with engine.begin() as conn:
            await conn.execute(insert, {"seq": 2})  # a second attempt at the same instant
            rows = (await conn.execute(text("SELECT seq FROM ivr_steps ORDER BY seq"))).scalars().all()
        assert rows == [0, 2]
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert, {"seq": 2})
    finally:
        await engine.dispose()
