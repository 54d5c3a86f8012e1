"""In headless Chromium: a supervisor reassigns a work order, the agent resolves it, the
customer's SMS is sent, the customer answers the survey link (no sign-in) and the score
appears on the case's work-order partial; screenshots in artifacts/screenshots/."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.service.conftest import PHONE, ServiceRig
from tests.web.harness import Shot


async def test_reassign_resolve_tell_and_rate(service_rig: ServiceRig, browser: Browser, shot: Shot) -> None:
    rig = service_rig
    web = rig.web
    case = await web.store.cases.open_case(category="complaint", priority="general", customer_phone=PHONE)
    number = case.number
    await rig.process.route(number)

    sue = await web.signed_in_page(browser, "sue")
    await sue.goto(f"{web.base_url}/work")
    await expect(sue.get_by_test_id(f"assignee-{number}")).to_have_text("kim")
    await sue.get_by_test_id(f"reassign-to-{number}").select_option("lee")
    await sue.get_by_test_id(f"reassign-{number}").click()
    await expect(sue.get_by_test_id("work-notice")).to_be_visible()
    await expect(sue.get_by_test_id(f"assignee-{number}")).to_have_text("lee")
    await shot(sue, "supervisor-reassigned")
    [entry] = await web.store.accounts.audit(action="case.reassign")
    assert entry.actor == "sue"

    lee = await web.signed_in_page(browser, "lee")
    await lee.goto(f"{web.base_url}/work")
    await lee.get_by_test_id(f"resolve-{number}").click()
    await expect(lee.get_by_test_id("work-notice")).to_have_text("Resolved; the customer was told.")
    await shot(lee, "agent-resolved")
    [sms] = rig.sms.requests
    assert sms.data["To"] == PHONE
    link = re.search(r"https?://\S+/survey/\S+", sms.data["Body"])
    assert link is not None
    path = link.group(0).split("/survey/", 1)[1]

    customer = await (await browser.new_context(locale="en-US")).new_page()
    await customer.goto(f"{web.base_url}/survey/{path}")
    await expect(customer.locator("h1")).to_have_text("서비스는 어떠셨나요?")  # the customer's language
    await shot(customer, "survey")
    await customer.get_by_test_id("score-5").check()
    await customer.get_by_test_id("survey-send").click()
    await expect(customer.get_by_test_id("survey-thanks")).to_contain_text(number)
    await customer.goto(f"{web.base_url}/survey/{path}")
    await expect(customer.get_by_test_id("survey-refused")).to_have_text("이미 답변하신 설문입니다.")

    await sue.goto(f"{web.base_url}/work/{number}/partial")
    await expect(sue.get_by_test_id("wo-score")).to_have_text("5")
    await expect(sue.get_by_test_id("wo-status")).to_have_text("resolved")
    await expect(sue.get_by_test_id("wo-messages")).to_contain_text("sms")
    assert PHONE not in await sue.content()  # masked for a supervisor
    await shot(sue, "work-order-scored")
