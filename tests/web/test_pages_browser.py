"""Each role's home page, the API reference page, the forbidden page and the Korean UI, in
headless Chromium, with screenshots (artifacts/screenshots/)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.web.harness import Shot, WebRig


async def test_supervisor_home_shows_the_floor_live(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("sue", "supervisor", name="Sue Park")
    page = await web_rig.signed_in_page(browser, "sue")
    await expect(page.get_by_test_id("agents-logged_out")).to_have_text("5")
    await expect(page.get_by_test_id("waiting-booking")).to_have_text("0")
    web_rig.acd.arrive("c1", "booking", caller="+821012345678")  # nobody is logged in: it waits
    await expect(page.get_by_test_id("waiting-booking")).to_have_text("1")
    web_rig.acd.login("1001")  # the call goes to the agent; the floor follows
    await expect(page.get_by_test_id("agents-ringing")).to_have_text("1")
    await expect(page.get_by_test_id("waiting-booking")).to_have_text("0")
    assert "+821012345678" not in await page.content()
    await shot(page, "supervisor-home")


async def test_an_agent_may_not_open_a_staff_page(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001")
    page = await web_rig.signed_in_page(browser, "kim")
    response = await page.goto(f"{web_rig.base_url}/home/floor")
    assert response is not None and response.status == 403
    await shot(page, "forbidden")
    nav = await page.locator("nav a").all_inner_texts()
    assert nav == ["Home", "Desktop", "Cases", "Calls"]  # agents: their own navigation, no staff pages


async def test_the_api_reference_page_renders_from_the_package(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    page = await (await browser.new_context()).new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(web_rig.base_url) and not r.url.startswith("data:") else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{web_rig.base_url}/docs/api")
    await expect(page.locator(".swagger-ui .title")).to_contain_text("Hotline API")
    await expect(page.locator(".opblock-summary-path", has_text="/api/agents/{agent_id}/state")).to_be_visible()
    await shot(page, "api-reference")
    assert outside == [] and errors == []


async def test_the_ui_speaks_korean(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001", language="ko", name="김민지")
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(f"{web_rig.base_url}/login?lang=ko")
    await expect(page.locator("h1")).to_have_text("로그인")
    await shot(page, "login-ko")
    await page.fill("#login", "kim")
    await page.fill("#password", "correct horse battery staple")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{web_rig.base_url}/")
    await expect(page.get_by_test_id("agent-state")).to_have_text("로그아웃")
    await shot(page, "agent-home-ko")


async def test_an_admin_adds_and_disables_a_person(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
    await web_rig.add_user("ada", "admin", name="Ada Admin")
    page = await web_rig.signed_in_page(browser, "ada")
    await page.get_by_role("link", name="People").click()
    await page.wait_for_url(f"{web_rig.base_url}/people")
    await page.fill("#new-login", "kim")
    await page.fill("#new-name", "Kim Minji")
    await page.select_option("#new-role", "agent")
    await page.fill("#new-agent", "1001")
    await page.fill("#new-password", "short")
    await page.get_by_test_id("add-person").click()
    await expect(page.get_by_test_id("people-error")).to_contain_text("at least 10 characters")
    await page.fill("#new-password", "a long enough secret")
    await page.get_by_test_id("add-person").click()
    await expect(page.get_by_test_id("state-kim")).to_have_text("active")
    await page.get_by_test_id("toggle-kim").click()
    await expect(page.get_by_test_id("state-kim")).to_have_text("disabled")
    await shot(page, "people")
    kim = await web_rig.store.accounts.user("kim")
    assert kim is not None and kim.disabled and kim.agent_id == "1001"
    await page.get_by_test_id("toggle-ada").click()  # the last admin stays
    await expect(page.get_by_test_id("people-error")).to_contain_text("last enabled admin")
    actions = [e.action for e in await web_rig.store.accounts.audit()]
    assert actions[:2] == ["user.update", "user.add"]
