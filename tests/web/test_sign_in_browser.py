"""Sign-in in a real headless Chromium: login, wrong password, throttling, logout, idle
timeout (the clock moves), first-admin setup link used once, forged CSRF token. Screenshots of
each page go to artifacts/screenshots/."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.web.harness import PASSWORD, Shot, WebRig


async def test_agent_signs_in_and_sees_own_state_live(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001", name="Kim Minji")
    page = await web_rig.signed_in_page(browser, "kim")
    state = page.get_by_test_id("agent-state")
    await expect(state).to_have_attribute("data-state", "logged_out")
    await expect(page.get_by_test_id("who")).to_contain_text("Kim Minji")
    await shot(page, "agent-home")
    web_rig.acd.login("1001")  # the ACD's event reaches the page over server-sent events
    await expect(state).to_have_attribute("data-state", "available")
    await shot(page, "agent-home-ready")


async def test_wrong_password_is_refused(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("sue", "supervisor")
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(f"{web_rig.base_url}/login")
    await shot(page, "login")
    await page.fill("#login", "sue")
    await page.fill("#password", "not the password")
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("login-error")).to_be_visible()
    await shot(page, "login-wrong-password")
    assert "/login" in page.url
