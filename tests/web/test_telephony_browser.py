"""Transfer and supervisor buttons in headless Chromium: the agent consults a colleague from
the desktop, then completes the transfer; a supervisor listens in from the wallboard, then
barges. Screenshots in artifacts/screenshots."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from playwright.async_api import Browser, expect

from tests.web.harness import Shot, WebRig


async def test_agent_consults_and_completes_a_transfer_on_the_desktop(
    web_rig: WebRig, browser: Browser, shot: Shot
) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001")
    acd = web_rig.acd
    acd.login("1001")
    acd.arrive("c1", "booking", caller="+821012345678", source="simulation")
    acd.answer("c1")
    acd.login("1002")
    page = await web_rig.signed_in_page(browser, "kim")
    await page.goto(f"{web_rig.base_url}/desktop")
    await expect(page.get_by_test_id("transfer-form")).to_be_visible()
    await page.get_by_test_id("transfer-mode").select_option("attended")
    await page.get_by_test_id("transfer-target").fill("1002")
    await page.get_by_test_id("transfer-go").click()
    await expect(page.get_by_test_id("consulting")).to_contain_text("1002")  # the page after the change
    assert [p.role for p in acd.call("c1").parties.values()] == ["consult"]
    acd.party_answered("c1", "1002")
    await shot(page, "desktop-consulting")
    await page.get_by_test_id("consult-complete").click()
    await expect(page.get_by_test_id("wrapup")).to_be_visible()
    assert acd.call("c1").agent_id == "1002"
    await shot(page, "desktop-transferred")


async def test_supervisor_listens_then_barges_from_the_wallboard(
    web_rig: WebRig, browser: Browser, shot: Shot
) -> None:
    await web_rig.add_user("sue", "supervisor")
    acd = web_rig.acd
    acd.login("1001")
    acd.arrive("c1", "booking", source="simulation")
    acd.answer("c1")
    page = await web_rig.signed_in_page(browser, "sue")
    await page.goto(f"{web_rig.base_url}/wallboard")
    await page.get_by_test_id("monitor-listen-1001").click()
    await _until(acd, lambda: (acd.call("c1").monitors or {}).get("sue", ("",))[0] == "listen")
    await page.get_by_test_id("monitor-barge-1001").click()
    await _until(acd, lambda: (acd.call("c1").monitors or {}).get("sue", ("",))[0] == "barge")
    await shot(page, "wallboard-barge")
    await page.get_by_test_id("monitor-stop-1001").click()
    await _until(acd, lambda: not acd.call("c1").monitors)
    audit = await web_rig.store.accounts.audit(limit=5, actor="sue")
    assert [e.action for e in reversed(audit)] == ["call.monitor_listen", "call.monitor_barge", "call.monitor_stop"]


async def _until(acd: Any, predicate: Callable[[], bool]) -> None:
    """Wait, on the ACD's own events, until `predicate()` holds."""
    changed = asyncio.Event()
    unsubscribe = acd.subscribe(lambda event: changed.set())

    async def wait() -> None:
        while not predicate():
            changed.clear()
            await changed.wait()

    try:
        await asyncio.wait_for(wait(), 10)
    finally:
        unsubscribe()
