"""The IVR editor in headless Chromium: an admin breaks the menu and sees the error at its
line and node (in the list, the gutter and the drawing), fixes it, publishes, sees the diff,
rolls back; a test call in the panel reaches the expected queue. Screenshots in
artifacts/screenshots."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from hotline.web.menus.service import MENUS_KEY
from tests.web.harness import Shot, WebRig


async def _replace(page: Page, old: str, new: str) -> None:
    """Edit the textarea as a person would: select `old` and type `new` over it."""
    await page.evaluate(
        """([old, neu]) => {
            const area = document.getElementById('draft');
            const at = area.value.indexOf(old);
            if (at < 0) throw new Error('not in the draft: ' + old);
            area.focus();
            area.setSelectionRange(at, at + old.length);
        }""",
        [old, new],
    )
    await page.keyboard.insert_text(new)


@pytest.fixture
def patient() -> Iterator[None]:
    """Page loads here check and draw the menu and walk a test call: on a loaded shared
    machine that can take longer than Playwright's default 5 s per expectation."""
    expect.set_options(timeout=20_000)
    try:
        yield
    finally:
        expect.set_options(timeout=5_000)


@pytest.mark.usefixtures("patient")
async def test_break_fix_publish_diff_rollback_and_a_test_call(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("ada", "admin")
    page = await web_rig.signed_in_page(browser, "ada")
    await page.goto(f"{web_rig.base_url}/ivr")
    await expect(page.get_by_test_id("menu-skyrail-main-v1")).to_contain_text("config")
    await page.click("a[href='/ivr/skyrail-main']")
    await expect(page.get_by_test_id("draft-status")).to_have_attribute("data-ok", "true")
    await expect(page.get_by_test_id("graph-main")).to_be_visible()
    await expect(page.locator("#highlight .y-key").first).to_be_visible()  # highlighted YAML
    await shot(page, "editor")

    # break it: the refund option goes to a node that does not exist
    await _replace(page, "next: ticket_number", "next: nowhere")
    await expect(page.get_by_test_id("draft-status")).to_have_attribute("data-ok", "false")
    issue = page.get_by_test_id("issue").filter(has_text="nowhere")
    await expect(issue).to_contain_text("node main")
    line = await issue.get_attribute("data-line")
    assert line and int(line) > 1
    await expect(page.get_by_test_id("graph-main")).to_have_class("node kind-menu error")
    await expect(page.get_by_test_id("graph-nowhere")).to_be_visible()  # the missing target, drawn
    await expect(page.locator(f"#gutter [data-gutter='{line}']")).to_have_class("mark-error")
    await shot(page, "broken")

    # publishing it is refused, naming the line and node; the running version stays
    await page.fill("#publish-message", "broken on purpose")
    await page.click("[data-testid=publish]")
    await expect(page.get_by_test_id("publish-result")).to_contain_text("node main")
    await expect(page.get_by_test_id("publish-result")).to_contain_text(f"line {line}")
    assert web_rig.app[MENUS_KEY].get("skyrail-main").version == 1
    await shot(page, "refused")

    # fix it (and change the baggage option's queue), publish
    await _replace(page, "next: nowhere", "next: ticket_number")
    await expect(page.get_by_test_id("draft-status")).to_have_attribute("data-ok", "true")
    await _replace(page, "    queue: baggage\n", "    queue: general\n")
    await expect(page.get_by_test_id("draft-status")).to_have_attribute("data-ok", "true")
    await page.fill("#publish-message", "baggage to the general queue")
    await page.click("[data-testid=publish]")
    await expect(page.get_by_test_id("published")).to_contain_text("2")
    assert web_rig.app[MENUS_KEY].get("skyrail-main").version == 2
    await expect(page.get_by_test_id("version-2")).to_contain_text("baggage to the general queue")
    await expect(page.get_by_test_id("version-2")).to_contain_text("ada")
    await expect(page.get_by_test_id("version-2").get_by_test_id("active-badge")).to_be_visible()

    # the diff of v1 and v2
    await page.select_option("#diff-from", "1")
    await page.select_option("#diff-to", "2")
    await page.click("[data-testid=diff-show]")
    changed = page.get_by_test_id("diff-changed")
    await expect(changed).to_have_count(1)
    await expect(changed).to_contain_text("queue: baggage")
    await expect(changed).to_contain_text("queue: general")
    await shot(page, "diff")

    # a test call on the draft: a weekday at 10:00 in Seoul, English, say "baggage"
    await page.fill("#try-at", "2026-12-01T10:00")
    await page.fill("#try-tz", "Asia/Seoul")
    await page.click("[data-testid=try-run]")
    await expect(page.get_by_test_id("try-waiting")).to_contain_text("language")
    await page.click("[data-testid=key-2]")
    await expect(page.get_by_test_id("try-waiting")).to_contain_text("main")
    await page.fill("[data-testid=try-phrase]", "baggage")
    await page.click("[data-testid=try-say]")
    await expect(page.get_by_test_id("try-queue")).to_have_attribute("data-queue", "general")
    await expect(page.get_by_test_id("try-path")).to_contain_text("hours › identify › language › main › baggage")
    await shot(page, "test-call")

    # roll back to v1 (a new audited action); the panel then reaches the baggage queue again
    await page.click("[data-testid=activate-1]")
    await expect(page.get_by_test_id("activated")).to_contain_text("1")
    await expect(page.get_by_test_id("version-1").get_by_test_id("active-badge")).to_be_visible()
    assert web_rig.app[MENUS_KEY].get("skyrail-main").version == 1
    await page.fill("#try-at", "2026-12-01T10:00")
    await page.fill("#try-tz", "Asia/Seoul")
    await page.click("[data-testid=key-1]")  # Korean
    await expect(page.get_by_test_id("try-waiting")).to_contain_text("main")
    await page.click("[data-testid=key-3]")  # baggage
    await expect(page.get_by_test_id("try-queue")).to_have_attribute("data-queue", "baggage")
    entries = await web_rig.store.accounts.audit(limit=3)
    assert [e.action for e in entries][:2] == ["menu.rollback", "menu.upload"]
    await expect(page.get_by_test_id("activity-1")).to_contain_text("ada · menu.rollback v2 → v1")
    await expect(page.get_by_test_id("activity-2")).to_contain_text("ada · menu.upload v1 → v2")
    await shot(page, "rolled-back")
