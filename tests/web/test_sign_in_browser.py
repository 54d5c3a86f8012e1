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


async def test_forged_csrf_token_is_refused(web_rig: WebRig, browser: Browser) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001")
    page = await web_rig.signed_in_page(browser, "kim")
    forged = await page.evaluate(
        """async () => {
            const r = await fetch('/api/agents/1001/state', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': 'forged'},
              body: JSON.stringify({action: 'login'})});
            return [r.status, (await r.json()).error];
        }"""
    )
    assert forged == [403, "csrf_failed"]
    missing = await page.evaluate(
        """async () => (await fetch('/api/agents/1001/state', {method: 'POST',
              headers: {'Content-Type': 'application/json'}, body: '{"action": "login"}'})).status"""
    )
    assert missing == 403
    assert web_rig.acd.agent("1001").state.value == "logged_out"
    # the page's own token works
    real = await page.evaluate(
        """async () => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const r = await fetch('/api/agents/1001/state', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
              body: JSON.stringify({action: 'login'})});
            return r.status;
        }"""
    )
    assert real == 200
    assert web_rig.acd.agent("1001").state.value == "available"


async def test_a_login_form_with_a_forged_token_is_refused(web_rig: WebRig, browser: Browser) -> None:
    await web_rig.add_user("sue", "supervisor")
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{web_rig.base_url}/login")
    await page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    await page.fill("#login", "sue")
    await page.fill("#password", PASSWORD)
    async with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as info:
        await page.click("button[type=submit]")
    assert (await info.value).status == 403
    await page.goto(f"{web_rig.base_url}/")
    assert "/login" in page.url  # not signed in


async def test_sign_in_is_throttled_after_repeated_failures(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("sue", "supervisor")
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(f"{web_rig.base_url}/login")
    for _ in range(5):
        await page.fill("#login", "sue")
        await page.fill("#password", "wrong password!")
        await page.click("button[type=submit]")
        await expect(page.get_by_test_id("login-error")).to_be_visible()
    await page.fill("#login", "sue")
    await page.fill("#password", PASSWORD)  # right, but locked out now
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("login-error")).to_contain_text("Too many failed attempts")
    await shot(page, "login-throttled")
    web_rig.clock.advance(301)  # the lockout passes
    await page.fill("#login", "sue")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{web_rig.base_url}/")


async def test_logout_ends_the_session(web_rig: WebRig, browser: Browser) -> None:
    await web_rig.add_user("sue", "supervisor")
    page = await web_rig.signed_in_page(browser, "sue")
    await page.get_by_test_id("logout").click()
    await page.wait_for_url(f"{web_rig.base_url}/login")
    status = await page.evaluate("async () => (await fetch('/api/session')).status")
    assert status == 401
    await page.goto(f"{web_rig.base_url}/")
    assert "/login" in page.url


async def test_idle_session_times_out(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("sue", "supervisor")
    page = await web_rig.signed_in_page(browser, "sue")
    web_rig.clock.advance(1700)  # still within the 1800 s idle timeout
    await page.goto(f"{web_rig.base_url}/")
    assert page.url == f"{web_rig.base_url}/"
    web_rig.clock.advance(1801)  # idle for longer than the timeout
    await page.goto(f"{web_rig.base_url}/")
    assert "/login" in page.url
    await expect(page.get_by_test_id("expired")).to_be_visible()
    await shot(page, "session-expired")


async def test_first_admin_setup_link_works_once(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    assert len(web_rig.links) == 1
    link = web_rig.links[0].replace("http://localhost:8080", web_rig.base_url)
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(link)
    await page.goto(f"{web_rig.base_url}/login")
    await expect(page.get_by_test_id("setup-pending")).to_be_visible()
    await page.goto(link)
    await shot(page, "setup")
    await page.fill("#name", "Ada Admin")
    await page.fill("#login", "ada")
    await page.fill("#password", PASSWORD)
    await page.fill("#password_again", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{web_rig.base_url}/")
    await expect(page.get_by_test_id("who")).to_contain_text("Ada Admin")
    await shot(page, "admin-home")
    other = await (await browser.new_context(locale="en-US")).new_page()
    await other.goto(link)
    await expect(other.get_by_test_id("setup-closed")).to_be_visible()
    await shot(other, "setup-used")
    admin = await web_rig.store.accounts.user("ada")
    assert admin is not None and admin.role == "admin"


async def test_a_live_page_whose_session_ended_goes_to_the_login_page(web_rig: WebRig, browser: Browser) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001")
    page = await web_rig.signed_in_page(browser, "kim")
    web_rig.clock.advance(1801)  # idle past the timeout while the page stays open
    web_rig.acd.login("1001")  # the pushed event makes the page re-fetch its partial
    await page.wait_for_url(f"{web_rig.base_url}/login?next=%2F&expired=1")
    await expect(page.get_by_test_id("expired")).to_be_visible()
