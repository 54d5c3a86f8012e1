"""Menu YAML from the API and from reloads: parsed off the event loop, within limits."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from acd.clock import VirtualClock
from casestore.menus import MenuStore
from casestore.store import open_store
from hotline.stored_menus import StoredMenus
from hotline.web.menus.service import reload_files
from ivr.checker import CheckResult
from ivr.registry import MenuRegistry
from tests.web.harness import WebRig

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "hotline.yaml"
ADMIN: dict[str, str] = {}
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)


@pytest.fixture
async def client(web_rig: WebRig) -> AsyncIterator[TestClient[object, object]]:
    await web_rig.add_user("ada", "admin")
    ADMIN.clear()
    ADMIN.update(await web_rig.bearer("ada"))
    yield web_rig.client


def _record_check_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    threads: list[int] = []
    original = MenuRegistry.check

    def check(self: MenuRegistry, text: str, source: str = "<menu>") -> CheckResult:
        threads.append(threading.get_ident())
        return original(self, text, source)

    monkeypatch.setattr(MenuRegistry, "check", check)
    return threads


@pytest.mark.parametrize(
    ("text", "message"),
    [(BOMB, "too many values"), ("a: &x [*x]\n", "recursive alias"), ("[" * 10_000, "nested deeper")],
)
async def test_hostile_uploads_are_refused_with_a_json_422(
    client: TestClient[object, object], monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    threads = _record_check_threads(monkeypatch)
    response = await client.post("/api/menus", data=text.encode(), headers=ADMIN)
    assert response.status == 422
    body: dict[str, Any] = await response.json()
    assert message in body["issues"][0]["message"]
    assert threads and threading.get_ident() not in threads  # parsed in an executor
    menus = await (await client.get("/api/menus", headers=ADMIN)).json()
    assert menus["menus"][0]["active_version"] == 1  # the running version stays


async def test_check_only_upload_runs_off_the_loop(client: TestClient[object, object]) -> None:
    response = await client.post("/api/menus?check_only=true", data=BOMB.encode(), headers=ADMIN)
    assert response.status == 422


async def test_reload_of_a_hostile_file_keeps_the_running_menu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text((ROOT / "config" / "menus" / "airline.yaml").read_text(encoding="utf-8"))
    clock = VirtualClock(1_800_000_000.0)
    registry = MenuRegistry(clock)
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}", create=True) as store:
        menus = StoredMenus(registry, MenuStore(store.engine), clock, poll=0)
        await menus.start([menu])
        threads = _record_check_threads(monkeypatch)
        menu.write_text(BOMB)
        second = await reload_files(menus, [menu])
        assert not second[0]["ok"]
        assert threads and threading.get_ident() not in threads
        assert registry.active(registry.names()[0]) is not None
        assert [v.version for v in registry.versions(registry.names()[0])] == [1]
        assert [v.version for v in await menus.versions(registry.names()[0])] == [1]  # nothing stored
