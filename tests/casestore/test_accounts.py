"""The accounts repository on SQLite and PostgreSQL: users, sessions, tokens, and audit entries
written in the same transaction as the change; the migration matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from casestore import InvalidInput, NotFound, Store
from casestore.accounts import Actor
from casestore.models import API_TOKENS, AUDIT_LOG, USERS, WEB_SESSIONS, Base

ADA = Actor("ada", 1)
TABLES = {t.name for t in (USERS, API_TOKENS, WEB_SESSIONS, AUDIT_LOG)}


async def test_users_are_added_changed_and_audited(store: Store) -> None:
    accounts = store.accounts
    kim = await accounts.add_user(ADA, login="kim", name="Kim", role="agent", password_hash="h1", agent_id="1001")
    assert (kim.role, kim.agent_id, kim.disabled, kim.has_password) == ("agent", "1001", False, True)
    with pytest.raises(InvalidInput, match="taken"):
        await accounts.add_user(ADA, login="kim", name="K", role="supervisor", password_hash="h")
    with pytest.raises(InvalidInput, match="already bound"):
        await accounts.add_user(ADA, login="lee", name="Lee", role="agent", password_hash="h", agent_id="1001")
    with pytest.raises(InvalidInput, match="agent id"):
        await accounts.add_user(ADA, login="sue", name="Sue", role="supervisor", password_hash="h", agent_id="1002")
    changed = await accounts.update_user(ADA, "kim", {"name": "Kim Minji", "disabled": True})
    assert (changed.name, changed.disabled) == ("Kim Minji", True)
    with pytest.raises(NotFound):
        await accounts.update_user(ADA, "nobody", {"name": "x"})
    entries = await accounts.audit()
    assert [e.action for e in entries] == ["user.update", "user.add"]
    assert entries[0].before == {"disabled": False, "name": "Kim"}
    assert entries[0].after == {"disabled": True, "name": "Kim Minji"}
    assert entries[1].after is not None and "password_hash" not in entries[1].after


async def test_a_refused_change_leaves_no_audit_entry(store: Store) -> None:
    accounts = store.accounts
    await accounts.add_user(ADA, login="ada", name="Ada", role="admin", password_hash="h")
    with pytest.raises(InvalidInput, match="last enabled admin"):
        await accounts.update_user(ADA, "ada", {"role": "supervisor"})
    assert [e.action for e in await accounts.audit()] == ["user.add"]
    assert await accounts.count_admins() == 1


async def test_sessions_and_tokens(store: Store) -> None:
    accounts = store.accounts
    kim = await accounts.add_user(ADA, login="kim", name="Kim", role="agent", password_hash="h", agent_id="1001")
    session = await accounts.create_session(kim.id, "a" * 64, "csrf", expires_at=store.clock() + 60)
    found = await accounts.session("a" * 64)
    assert found is not None and found[1].login == "kim" and found[0].csrf_token == "csrf"
    await accounts.touch_session(session.id_hash, 123.0)
    assert (await accounts.session("a" * 64)) is not None
    await accounts.set_password(ADA, "kim", "h2")  # ends the sessions
    assert await accounts.session("a" * 64) is None

    token = await accounts.add_token(ADA, kim.id, name="script", public_id="abc123", secret_hash="s" * 64, expires_at=9e9)
    owned = await accounts.token("abc123")
    assert owned is not None and owned[1] == "s" * 64 and owned[2].login == "kim"
    with pytest.raises(NotFound):
        await accounts.revoke_token(ADA, "abc123", owner=kim.id + 99)
    revoked = await accounts.revoke_token(ADA, "abc123", owner=kim.id)
    assert revoked.revoked_at is not None and token.revoked_at is None
    assert [t.public_id for t in await accounts.tokens(kim.id)] == ["abc123"]
    actions = [e.action for e in await accounts.audit()]
    assert actions[:3] == ["token.revoke", "token.add", "user.password"]


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return [d for d in compare_metadata(context, Base.metadata) if _table_of(d) in TABLES]


def _table_of(diff: object) -> str:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if name in TABLES:
            return str(name)
    return ""


async def test_the_migration_matches_the_models(store: Store) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
