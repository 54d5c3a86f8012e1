"""Menus in the case store (hotline.stored_menus): first import, publish with author and
message, versions and texts, activate, roll back, a broken menu never stored, a second node
on the same store following the changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.clock import VirtualClock
from casestore.menus import MenuStore, NoSuchMenu
from casestore.store import open_store
from hotline.stored_menus import StoredMenus
from ivr.registry import MenuError, MenuRegistry

MENU = Path(__file__).resolve().parents[1] / "asterisk" / "menu.yaml"
QUEUES = ["booking"]


def node(store: MenuStore, clock: VirtualClock) -> StoredMenus:
    return StoredMenus(MenuRegistry(clock, queues=QUEUES), store, clock, poll=0)


async def test_menus_are_versioned_in_the_store_and_shared(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    clock = VirtualClock(1_800_000_000.0)
    async with open_store(url, create=True) as opened:
        store = MenuStore(opened.engine)
        one = node(store, clock)
        await one.start([MENU])
        assert [(m.name, m.active_version) for m in one.list()] == [("asterisk-test", 1)]
        await one.start([MENU])  # a second start does not import the file again
        assert [v.version for v in await one.versions("asterisk-test")] == [1]

        text = MENU.read_text(encoding="utf-8")
        changed = text.replace("Welcome to the test hotline.", "Welcome back.")
        clock.advance(60)
        result = await one.publish(changed, author="ann", message="new welcome")
        assert result.ok and result.menu is not None and result.menu.version == 2
        broken = await one.publish(changed.replace("next: main", "next: nowhere", 1), author="ann")
        assert not broken.ok and broken.errors
        versions = await one.versions("asterisk-test")
        assert [(v.version, v.author, v.message) for v in versions] == [
            (1, "config", "first import of menu.yaml"), (2, "ann", "new welcome"),
        ]
        assert (await one.get("asterisk-test")).text == changed
        assert (await one.get("asterisk-test", 1)).text == text
        with pytest.raises(NoSuchMenu):
            await one.get("asterisk-test", 9)

        two = node(store, clock)  # another node on the same store
        await two.start([MENU])
        assert two.registry.get("asterisk-test").version == 2

        assert await one.rollback("asterisk-test", by="ann") == 1
        assert one.registry.get("asterisk-test").version == 1
        await two.refresh()
        assert two.registry.get("asterisk-test").version == 1
        await two.activate("asterisk-test", 2, by="bob")
        await one.refresh()
        assert one.registry.get("asterisk-test").version == 2
        with pytest.raises(MenuError):
            await one.rollback("other", by="ann")
        with pytest.raises(NoSuchMenu):
            await one.activate("asterisk-test", 7, by="ann")
        assert one.registry.get("asterisk-test").version == 2  # the running one stays
