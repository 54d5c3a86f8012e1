"""Menu changes and their audit entries in one transaction (SQLite and PostgreSQL): a publish
or an activation is stored with its entry (who, what, before, after), and when the entry
cannot be written the change is not made either."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from casestore.accounts import Actor
from casestore.errors import StoreUnavailable
from casestore.menus import MenuAudit, MenuStore
from casestore.store import Store

AT = 1_800_000_000.0


async def test_publish_and_activate_write_their_audit_in_the_same_transaction(store: Store) -> None:
    menus = MenuStore(store.engine)
    ann = Actor("ann")
    one = await menus.publish("m", "a: 1\n", "d1", at=AT, author="ann", message="first",
                              audit=MenuAudit(ann, "menu.upload"))
    two = await menus.publish("m", "a: 2\n", "d2", at=AT + 1, author="ann", message="second",
                              audit=MenuAudit(ann, "menu.upload"))
    before = await menus.activate("m", one, at=AT + 2, by="ann", audit=MenuAudit(ann, "menu.rollback"))
    assert (one, two, before) == (1, 2, 2)
    entries = await store.accounts.audit(limit=10)
    assert [(e.action, e.actor, e.target, e.before, e.after) for e in reversed(entries)] == [
        ("menu.upload", "ann", "menu:m", {"version": None}, {"version": 1, "activated": True, "message": "first"}),
        ("menu.upload", "ann", "menu:m", {"version": 1}, {"version": 2, "activated": True, "message": "second"}),
        ("menu.rollback", "ann", "menu:m", {"version": 2}, {"version": 1}),
    ]
    assert [e.at for e in reversed(entries)] == [AT, AT + 1, AT + 2]


async def test_no_audit_entry_means_no_change(store: Store) -> None:
    menus = MenuStore(store.engine)
    await menus.publish("m", "a: 1\n", "d1", at=AT, audit=MenuAudit(Actor("ann"), "menu.upload"))
    async with store.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    with pytest.raises(StoreUnavailable):
        await menus.publish("m", "a: 2\n", "d2", at=AT + 1, audit=MenuAudit(Actor("ann"), "menu.upload"))
    await menus.publish("m", "a: 3\n", "d3", at=AT + 2, activate=False)  # without audit: stored as v2
    with pytest.raises(StoreUnavailable):
        await menus.activate("m", 2, at=AT + 3, audit=MenuAudit(Actor("ann"), "menu.activate"))
    assert [v.version for v in await menus.versions("m")] == [1, 2]
    assert (await menus.versions("m"))[1].digest == "d3"
    assert await menus.active() == {"m": 1}
