"""The service process through the running app: new cases routed by the background round,
the assignee told live, escalation to the lead before the due time (by moving the clock), an
agent resolves and the customer gets an SMS (exact Twilio request) or an e-mail (real SMTP
server) with a survey link that works once; forged, expired, reused links refused; SMS
replies with a score (signed webhook); opted-out customers never messaged; per role."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from casestore.accounts import Actor
from hotline.roles import Principal, Role
from hotline.web.base.keys import WEB_KEY
from hotline.web.base.live import LiveEvent
from tests.service.conftest import PHONE, ServiceRig
from tests.service.fakes import ACCOUNT, FROM, TOKEN


async def _case(rig: ServiceRig, category: str = "complaint") -> str:
    case = await rig.web.store.cases.open_case(category=category, priority="general", customer_phone=PHONE)
    return str(case.number)


async def _round(rig: ServiceRig, seconds: float = 60) -> None:
    rig.round.done.clear()
    rig.web.clock.advance(seconds)
    await asyncio.wait_for(rig.round.done.wait(), 10)


async def _next(queue: asyncio.Queue[LiveEvent], kind: str) -> LiveEvent:
    while True:
        event = await asyncio.wait_for(queue.get(), 5)
        if event.kind == kind:
            return event


def _link_path(body: str) -> str:
    found = re.search(r"https?://[^/\s]+(/survey/[A-Za-z0-9_.-]+)\?lang=ko", body)
    assert found, body
    return found.group(1)


async def test_the_round_routes_new_cases_and_tells_the_assignee_live(service_rig: ServiceRig) -> None:
    rig = service_rig
    kim_live = rig.web.app[WEB_KEY].live.connect(Principal(Role.AGENT, agent_id="1001", login="kim"))
    lee_live = rig.web.app[WEB_KEY].live.connect(Principal(Role.AGENT, agent_id="1002", login="lee"))
    number = await _case(rig)
    await _round(rig)
    event = await _next(kim_live.queue, "work_order")
    assert dict(event.data) == {"case": number, "team": "complaints", "assignee": "kim", "why": "assigned"}
    assert lee_live.queue.empty()  # not lee's
    second = await _case(rig)
    await _round(rig)
    got = await (await rig.web.client.get(f"/api/workorders/{second}", headers=rig.headers["sue"])).json()
    assert got["routing"]["assignee"] == "lee"  # kim has one open case, lee none; sue lacks the skill
    assert (await rig.web.store.cases.get_case(second)).assigned_agent == "1002"


async def test_escalation_to_the_lead_before_the_due_time_with_an_e_mail(service_rig: ServiceRig) -> None:
    rig = service_rig
    number = await _case(rig)
    await _round(rig)
    case = await rig.web.store.cases.get_case(number)
    staff = rig.web.app[WEB_KEY].live.connect(Principal(Role.SUPERVISOR, login="sue"))
    rig.inbox.arrived.clear()
    escalate_at = case.due_at - 15 * 60
    while rig.web.clock.now() + 60 < escalate_at:  # rounds before: nothing happens
        await _round(rig)
    assert (await rig.process.routing.routing(number)).escalated_at is None  # type: ignore[union-attr]
    await _round(rig)  # this round passes the escalation time, still before the due time
    view = await rig.process.routing.routing(number)
    assert view is not None and view.assignee == "sue" and view.escalated_at is not None
    assert escalate_at <= view.escalated_at < case.due_at
    event = await _next(staff.queue, "work_order")
    assert event.data["why"] == "escalated" and event.data["assignee"] == "sue"
    await asyncio.wait_for(rig.inbox.arrived.wait(), 5)
    assert rig.inbox.envelopes[-1][1] == ["sue@skyrail.example"]
    assert number in str(rig.inbox.messages[-1]["Subject"])


async def test_an_agent_resolves_the_customer_gets_an_sms_and_rates_once(service_rig: ServiceRig) -> None:
    rig = service_rig
    c = rig.web.client
    number = await _case(rig)
    await rig.process.route(number)
    response = await c.post(f"/api/workorders/{number}/status", json={"status": "resolved"}, headers=rig.headers["kim"])
    assert response.status == 200, await response.text()
    assert (await response.json())["customer"] == "sent"
    [request] = rig.sms.requests
    assert (request.method, request.url, request.auth) == (
        "POST", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json", (ACCOUNT, TOKEN))
    assert set(request.data) == {"To", "From", "Body"}
    assert (request.data["To"], request.data["From"]) == (PHONE, FROM)
    body = request.data["Body"]
    assert body.startswith(f"Hotline: 접수하신 {number} 건이 처리되었습니다.")  # the customer's language
    path = _link_path(body)

    order = await (await c.get(f"/api/workorders/{number}", headers=rig.headers["kim"])).json()
    [message] = order["messages"]
    assert (message["channel"], message["status"], message["on_time"], message["language"]) == ("sms", "sent", True, "ko")
    assert message["recipient"] != PHONE and message["recipient"].endswith(PHONE[-4:])  # masked for an agent
    admin_view = await (await c.get(f"/api/workorders/{number}", headers=rig.headers["ada"])).json()
    assert admin_view["messages"][0]["recipient"] == PHONE

    page = await c.get(path)
    assert page.status == 200 and number in await page.text()
    csrf = await rig.web.csrf()
    answered = await c.post(path, data={"score": "4", "csrf_token": csrf})
    assert answered.status == 200 and "survey-thanks" in await answered.text()
    order = await (await c.get(f"/api/workorders/{number}", headers=rig.headers["kim"])).json()
    assert (order["score"], order["score_channel"]) == (4, "web")
    assert await rig.web.store.cases.survey(f"case:{number}") == {"service": 4}

    again = await c.post(path, data={"score": "1", "csrf_token": csrf})
    assert again.status == 410 and "survey-refused" in await again.text()
    assert (await c.get(path)).status == 410
    token = path.rsplit("/", 1)[1]
    nonce, expires, signature = token.split(".")
    forged = f"/survey/{nonce}.{int(expires) + 86400}.{signature}"
    assert (await c.get(forged)).status == 403
    assert (await c.post(forged, data={"score": "5", "csrf_token": csrf})).status == 403
    assert (await rig.process.outreach.score(number)) == (4, "web")

    # a follow-up call 24 h after a resolved complaint, taken by an agent, outcome recorded
    assert (await (await c.get("/api/follow-ups", headers=rig.headers["kim"])).json())["tasks"] == []
    rig.web.clock.advance(24 * 3600)
    [task] = (await (await c.get("/api/follow-ups", headers=rig.headers["kim"])).json())["tasks"]
    assert task["case"] == number and task["phone"] != PHONE  # masked until taken
    taken = await (await c.post(f"/api/follow-ups/{task['id']}/take", headers=rig.headers["kim"])).json()
    assert (taken["status"], taken["phone"]) == ("taken", PHONE)
    assert (await c.post(f"/api/follow-ups/{task['id']}/outcome", json={"outcome": "reached"}, headers=rig.headers["lee"])).status == 400
    done = await (await c.post(f"/api/follow-ups/{task['id']}/outcome", json={"outcome": "reached"}, headers=rig.headers["kim"])).json()
    assert (done["status"], done["outcome"]) == ("done", "reached")


async def test_an_expired_link_is_refused(service_rig: ServiceRig) -> None:
    rig = service_rig
    number = await _case(rig)
    await rig.process.route(number)
    await rig.web.client.post(f"/api/workorders/{number}/status", json={"status": "resolved"}, headers=rig.headers["kim"])
    path = _link_path(rig.sms.requests[-1].data["Body"])
    rig.web.clock.advance(7 * 86400)
    page = await rig.web.client.get(path)
    assert page.status == 410 and "이 설문 링크는 만료되었습니다." in await page.text()  # in the customer's language


async def test_e_mail_when_the_customer_prefers_it_from_the_admins_template(service_rig: ServiceRig) -> None:
    rig = service_rig
    c = rig.web.client
    await rig.process.outreach.set_contact(Actor("test"), PHONE, email="minji@example.com", channel="email")
    saved = await c.post("/api/message-templates", json={
        "event": "resolved", "channel": "email", "language": "ko", "body": "$case 처리 완료. 평가: $link"},
        headers=rig.headers["ada"])
    assert (await saved.json())["version"] == 1
    assert (await c.post("/api/message-templates", json={
        "event": "resolved", "channel": "email", "language": "ko", "body": "x"}, headers=rig.headers["sue"])).status == 403
    number = await _case(rig)
    await rig.process.route(number)
    rig.inbox.arrived.clear()
    response = await c.post(f"/api/workorders/{number}/status", json={"status": "resolved"}, headers=rig.headers["kim"])
    assert (await response.json())["customer"] == "sent"
    await asyncio.wait_for(rig.inbox.arrived.wait(), 5)
    msg = rig.inbox.messages[-1]
    assert rig.inbox.envelopes[-1] == ("care@skyrail.example", ["minji@example.com"])
    text = msg.get_content()
    assert text.startswith(f"{number} 처리 완료. 평가: ") and "/survey/" in text
    assert rig.sms.requests == []
    assert (await c.get(_link_path(text))).status == 200


async def test_opted_out_customers_are_never_messaged(service_rig: ServiceRig) -> None:
    rig = service_rig
    await rig.process.outreach.set_contact(Actor("test"), PHONE, opted_out=True)
    number = await _case(rig)
    await rig.process.route(number)
    response = await rig.web.client.post(f"/api/workorders/{number}/status", json={"status": "resolved"}, headers=rig.headers["kim"])
    assert (await response.json())["customer"] == "opted_out"
    assert rig.sms.requests == [] and rig.inbox.messages == []
    assert await rig.process.outreach.messages(number) == []


async def test_an_sms_reply_with_a_score_is_recorded_when_signed(service_rig: ServiceRig) -> None:
    rig = service_rig
    c = rig.web.client
    number = await _case(rig)
    await rig.process.route(number)
    await c.post(f"/api/workorders/{number}/status", json={"status": "resolved"}, headers=rig.headers["kim"])
    url = f"{rig.web.app[WEB_KEY].base_url}/service/twilio/sms"
    form = {"From": PHONE, "To": FROM, "Body": "5", "MessageSid": "SM" + "9" * 32, "AccountSid": ACCOUNT}
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    unsigned = await c.post("/service/twilio/sms", data=urlencode(form), headers=headers)
    assert unsigned.status == 403  # no signature: CSRF refuses it before the handler
    bad = await c.post("/service/twilio/sms", data=urlencode({**form, "Body": "1"}),
                       headers={**headers, "X-Twilio-Signature": signature})
    assert bad.status == 403
    assert await rig.process.outreach.score(number) is None
    good = await c.post("/service/twilio/sms", data=urlencode(form), headers={**headers, "X-Twilio-Signature": signature})
    assert good.status == 200 and "Thank you" in await good.text()
    assert await rig.process.outreach.score(number) == (5, "sms")
    again = await c.post("/service/twilio/sms", data=urlencode(form), headers={**headers, "X-Twilio-Signature": signature})
    assert "<Response/>" in await again.text()  # the invitation is used
    # a delivery status callback updates the message
    sid = rig.process.outreach
    [message] = await sid.messages(number)
    status_url = f"{rig.web.app[WEB_KEY].base_url}/service/twilio/message-status"
    status_form = {"MessageSid": message.provider_id or "", "MessageStatus": "delivered"}
    signed = RequestValidator(TOKEN).compute_signature(status_url, status_form)
    done = await c.post("/service/twilio/message-status", data=urlencode(status_form),
                        headers={**headers, "X-Twilio-Signature": signed})
    assert done.status == 204
    assert (await sid.messages(number))[0].status == "delivered"


async def test_roles(service_rig: ServiceRig) -> None:
    rig = service_rig
    c = rig.web.client
    h = rig.headers
    number = await _case(rig)
    await rig.process.route(number)  # kim's
    assert (await c.get(f"/api/workorders/{number}", headers=h["lee"])).status == 403
    assert (await c.post(f"/api/workorders/{number}/status", json={"status": "resolved"}, headers=h["lee"])).status == 403
    assert (await c.post(f"/api/workorders/{number}/reassign", json={"login": "lee"}, headers=h["kim"])).status == 403
    assert (await c.get("/api/teams", headers=h["kim"])).status == 403
    assert (await c.post("/api/teams", json={"name": "baggage", "title": "Baggage"}, headers=h["sue"])).status == 403
    moved = await c.post(f"/api/workorders/{number}/reassign", json={"login": "lee"}, headers=h["sue"])
    assert moved.status == 200 and (await moved.json())["assignee"] == "lee"
    [entry] = await rig.web.store.accounts.audit(action="case.reassign")
    assert (entry.actor, entry.after) == ("sue", {"team": "complaints", "assignee": "lee"})
    assert (await c.get(f"/api/workorders/{number}", headers=h["lee"])).status == 200
    assert (await c.get(f"/api/workorders/{number}", headers=h["kim"])).status == 403
    teams = await (await c.get("/api/teams", headers=h["sue"])).json()
    members = {m["login"]: m for m in teams["teams"][0]["members"]}
    assert members["lee"]["open_cases"] == 1 and members["sue"]["notify_email"] is True
    assert "sue@" not in str(teams)  # addresses are not shown
    assert (await c.post(f"/api/workorders/{number}/reassign", json={"login": "ada"}, headers=h["sue"])).status == 400


async def test_answers_api_and_page_per_role(service_rig: ServiceRig) -> None:
    rig = service_rig
    c = rig.web.client
    h = rig.headers
    body = {"key": "lost-bag", "title": "Lost baggage", "body": "File a report at the baggage desk.",
            "language": "en", "queue": "baggage", "ivr_nodes": ["baggage-lost"]}
    for login in ("sue", "kim"):
        assert (await c.post("/api/answers", json=body, headers=h[login])).status == 403
    saved = await c.post("/api/answers", json=body, headers=h["ada"])
    assert saved.status == 200 and (await saved.json())["version"] == 1
    await c.post("/api/answers", json={**body, "key": "bag-fees", "title": "Baggage fees", "ivr_nodes": []},
                 headers=h["ada"])
    await rig.web.store.cases.upsert_customer(PHONE)
    found = await (await c.get("/api/answers?q=baggage&queue=baggage", headers=h["kim"])).json()
    assert {a["key"] for a in found["answers"]} == {"lost-bag", "bag-fees"}
    bad = await c.get("/api/answers?colour=red", headers=h["kim"])
    assert bad.status == 400 and (await bad.json())["error"] == "invalid_query"
    await rig.web.api_sign_in("kim")
    page = await c.get("/answers?q=fees")
    text = await page.text()
    assert page.status == 200 and "Baggage fees" in text and "Lost baggage" not in text


async def test_a_webhook_header_never_carries_a_session(service_rig: ServiceRig) -> None:
    """Requests with X-Twilio-Signature skip CSRF, so they must not act as the cookie's person."""
    rig = service_rig
    number = await _case(rig)
    await rig.process.route(number)  # kim's
    await rig.web.api_sign_in("kim")  # the client now has kim's session cookie
    response = await rig.web.client.post(
        f"/api/workorders/{number}/status", json={"status": "resolved"}, headers={"X-Twilio-Signature": "x"})
    assert response.status == 401, await response.text()
    assert (await rig.web.store.cases.get_case(number)).status == "open"
    page = await rig.web.client.post(f"/work/{number}/resolve", data={}, headers={"X-Twilio-Signature": "x"})
    assert page.status in (302, 303) or "/login" in str(page.url)  # sent to sign in, not resolved
    assert (await rig.web.store.cases.get_case(number)).status == "open"


async def test_a_failed_sms_is_kept_failed_and_sent_again_while_still_due(service_rig: ServiceRig) -> None:
    rig = service_rig
    number = await _case(rig)
    await rig.process.route(number)
    rig.sms.status = 400
    response = await rig.web.client.post(
        f"/api/workorders/{number}/status", json={"status": "resolved"}, headers=rig.headers["kim"])
    assert (await response.json())["customer"] == "failed"
    [failed] = await rig.process.outreach.messages(number)
    assert failed.status == "failed" and "HTTP 400" in (failed.error or "")
    rig.sms.status = 201
    await _round(rig)  # within notify_within_minutes: sent again, the same message
    [sent] = await rig.process.outreach.messages(number)
    assert (sent.id, sent.status, sent.error) == (failed.id, "sent", None)
    assert len(rig.sms.requests) == 2 and rig.sms.requests[0].data == rig.sms.requests[1].data
    rig.sms.status = 400
    other = await _case(rig)
    await rig.process.route(other)
    await rig.web.client.post(f"/api/workorders/{other}/status", json={"status": "resolved"}, headers=rig.headers["kim"])
    rig.sms.status = 201
    await _round(rig, 61 * 60)  # past its due time: not sent any more
    assert (await rig.process.outreach.messages(other))[0].status == "failed"
