"""The admins' texts page (hotline/web/texts): message templates and common answers edited in
headless Chromium, each save a new version, audited, and then used: the customer's message is
made from the new template, agents' searches find the new answer. The API for roles."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from hotline.service_process.templates import message_body
from hotline.web.workorders.routes import process_of
from tests.web.harness import Shot, WebRig


@pytest.fixture
async def people(web_rig: WebRig) -> dict[str, dict[str, str]]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    return {login: await web_rig.bearer(login) for login in ("ada", "sue", "kim")}


@pytest.mark.parametrize("path", ["/api/message-templates", "/admin/texts"])
async def test_templates_are_for_admins(web_rig: WebRig, people: dict[str, dict[str, str]], path: str) -> None:
    for login in ("sue", "kim"):
        assert (await web_rig.client.get(path, headers=people[login])).status == 403
    response = await web_rig.client.get(path, headers=people["ada"])
    assert response.status == 200


async def test_the_templates_as_sent_and_the_answers_versions(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    body = (await (await web_rig.client.get("/api/message-templates", headers=people["ada"])).json())["templates"]
    resolved = {(t["channel"], t["language"]): t for t in body if t["event"] == "resolved"}
    assert resolved[("sms", "en")]["version"] == 0 and "$case" in resolved[("sms", "en")]["body"]
    saved = await web_rig.client.post("/api/message-templates", headers=people["ada"], json={
        "event": "resolved", "channel": "sms", "language": "en", "body": "Done: $case. Rate: $link"})
    assert saved.status == 200
    body = (await (await web_rig.client.get("/api/message-templates", headers=people["ada"])).json())["templates"]
    now = next(t for t in body if (t["event"], t["channel"], t["language"]) == ("resolved", "sms", "en"))
    assert (now["version"], now["body"]) == (1, "Done: $case. Rate: $link")
    for text in ("first", "second"):
        response = await web_rig.client.post("/api/answers", headers=people["ada"], json={
            "key": "refund-time", "title": "Refund time", "body": f"{text} wording", "language": "en"})
        assert response.status == 200
    versions = await web_rig.client.get("/api/answers/refund-time/versions", headers=people["ada"])
    assert [a["version"] for a in (await versions.json())["answers"]] == [2, 1]
    assert (await web_rig.client.get("/api/answers/refund-time/versions", headers=people["sue"])).status == 403
    assert (await web_rig.client.get("/api/answers/nothing/versions", headers=people["ada"])).status == 404


async def test_an_admin_edits_a_template_and_an_answer_and_sees_them_used(
    web_rig: WebRig, browser: Browser, shot: Shot
) -> None:
    await web_rig.add_user("ada", "admin")
    page = await web_rig.signed_in_page(browser, "ada")
    await page.goto(f"{web_rig.base_url}/admin/texts")
    tpl = "template-resolved-sms-en"
    await expect(page.get_by_test_id(f"{tpl}-version")).to_have_text("built-in default")
    await page.get_by_test_id(f"{tpl}-body").fill("Hotline: $case is done, thank you! Tell us: $link")
    await page.get_by_test_id(f"{tpl}-save").click()
    await expect(page.get_by_test_id(f"{tpl}-version")).to_have_text("v1")
    await expect(page.get_by_test_id(f"{tpl}-preview")).to_have_text(
        "Hotline: C-2026-000123 is done, thank you! Tell us: https://hotline.example/survey/…")
    outreach = process_of(web_rig.app).outreach
    sent = await message_body(outreach, "resolved", "sms", "en", case="C-1", link="L", status="resolved")
    assert sent == "Hotline: C-1 is done, thank you! Tell us: L"  # what the customer's SMS is made of
    audit = await web_rig.store.accounts.audit(limit=1, actor="ada")
    assert audit[0].action == "template.save" and audit[0].target == "template:resolved/sms/en"

    # a new answer, then a second version of it; agents' search finds the newest
    await page.get_by_test_id("new-answer-key").fill("lost-bag")
    await page.get_by_test_id("answer-new-title").fill("Lost baggage")
    await page.get_by_test_id("answer-new-language").fill("en")
    await page.get_by_test_id("answer-new-body").fill("File a report at the baggage desk.")
    await page.get_by_test_id("answer-new-save").click()
    await expect(page.get_by_test_id("answer-lost-bag-history")).to_have_text("v1")
    await page.get_by_test_id("answer-lost-bag-body").fill("File a property irregularity report within 21 days.")
    await page.get_by_test_id("answer-lost-bag-save").click()
    await expect(page.get_by_test_id("answer-lost-bag-history")).to_have_text("v2")
    await shot(page, "texts")
    await page.goto(f"{web_rig.base_url}/answers?q=irregularity")
    await expect(page.get_by_test_id("answers")).to_contain_text("within 21 days")
    await page.goto(f"{web_rig.base_url}/answers?q=desk")
    await expect(page.get_by_test_id("answers")).not_to_contain_text("Lost baggage")  # v1 no longer current
    await shot(page, "searched")
    audit = await web_rig.store.accounts.audit(limit=1, actor="ada")
    assert audit[0].action == "answer.save" and audit[0].target == "answer:lost-bag"
