"""The queues-and-agents page in headless Chromium while calls flow through the fake Asterisk:
an admin gives an agent a new skill and the waiting booking call goes to that agent at once,
without a restart; a bad level is refused naming the key; the history shows the diff and a
rollback. Screenshots in artifacts/screenshots."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from acd.call import CallState
from asterisk.service import ASTERISK_KEY
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.web.harness import Shot, WebRig
from tests.web.test_wallboard_browser import floor  # noqa: F401  (the fixture)


async def test_an_admin_gives_an_agent_a_skill_and_the_booking_call_goes_to_them(
    floor: tuple[WebRig, FakeAsterisk], browser: Browser, shot: Shot  # noqa: F811
) -> None:
    rig, fake = floor
    fake.devices.update({"PJSIP/1003": "NOT_INUSE"})
    await rig.add_user("ada", "admin")
    rig.acd.login("1003")  # refund and complaint: no booking skill
    service = rig.app[ASTERISK_KEY]
    result = await fake.agi_call(service.agi.port, CallerScript(keys=["1", "4", "2", "4", "2"]))
    call_id = result.channel.uniqueid
    call = rig.acd.call(call_id)
    assert call.queue == "booking" and call.state is CallState.QUEUED  # 1003 is free but not eligible

    page = await rig.signed_in_page(browser, "ada")
    await page.goto(f"{rig.base_url}/admin/acd")
    await expect(page.get_by_test_id("waiting-booking")).to_have_text("1")
    await expect(page.get_by_test_id("agent-state-1003")).to_have_text("available")
    skills = page.get_by_test_id("skills-1003")
    await expect(skills).to_have_value("complaint=7, general=5, lang_ko=8, lang_zh=9, refund=8")
    await skills.fill("complaint=7, general=5, lang_ko=8, lang_zh=9, refund=8, booking=11")
    await page.get_by_test_id("save-agent-1003").click()
    await expect(page.get_by_test_id("problems")).to_contain_text("skills.booking")
    assert rig.acd.call(call_id).state is CallState.QUEUED  # refused: nothing changed
    await shot(page, "refused")

    await page.get_by_test_id("skills-1003").fill("complaint=7, general=5, lang_ko=8, lang_zh=9, refund=8, booking=6")
    await page.get_by_test_id("save-agent-1003").click()
    await expect(page.get_by_test_id("agent-state-1003")).to_have_text("ringing")
    redirect = await fake.wait_action("Redirect")
    assert rig.acd.call(call_id).agent_id == "1003"
    assert "1003" in str(redirect)
    await expect(page.get_by_test_id("history-agent-1003")).to_have_text("v2")
    await shot(page, "ringing")
    audit = await rig.store.accounts.audit(limit=1, actor="ada")
    assert audit[0].action == "agent.save" and audit[0].target == "agent:1003"

    await page.get_by_test_id("history-agent-1003").click()
    await expect(page.get_by_test_id("diff")).to_contain_text("+  booking: 6")
    await shot(page, "history")
    await page.get_by_test_id("rollback-1").click()
    await expect(page.get_by_test_id("version-3")).to_contain_text("rollback to version 1")
    assert "booking" not in rig.acd.agent("1003").config.skills
    assert rig.acd.call(call_id).agent_id == "1003"  # the call offered before stays with it
