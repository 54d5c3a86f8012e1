"""Follow-up calls through the running app, per role (issue 15): an agent takes a task on
the API, Hotline places the call for *that* agent (on Twilio: one `Calls.create` to the
customer whose TwiML dials the agent), the signed status callbacks end it, and the outcome
lands on the task and on the case (a note, and one outbound call record in its timeline)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from acd.clock import VirtualClock
from casestore.models import CALLS
from casestore.store import open_store
from hotline.service_process.process import ServiceProcess
from hotline.service_process.wiring import SERVICE_KEY
from hotline.wiring import build_app
from tests.twilio.fakes import ACCOUNT, PUBLIC, TOKEN, FakeTwilioApi, Poster
from tests.web.harness import START, WebRig, sample_config

PHONE = "+821012345678"
FROM = "+8215990000"
CALLS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"


@dataclass
class Rig:
    web: WebRig
    api: FakeTwilioApi
    poster: Poster
    headers: dict[str, dict[str, str]]

    @property
    def process(self) -> ServiceProcess:
        return self.web.app[SERVICE_KEY]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    config = sample_config(
        twilio={"enabled": True, "account_sid": ACCOUNT, "auth_token": TOKEN, "public_url": PUBLIC,
                "agents": {"1001": "client:agent-1001", "1002": "sip:1002@pbx.example.com"},
                "callback_from": FROM, "record": False},
        service={"follow_up": [{"category": "complaint", "after_hours": 24}],
                 "survey_secret": "s" * 40, "follow_up_wait": 120},
    )
    api = FakeTwilioApi()
    clock = VirtualClock(START)
    app = build_app(config, clock=clock, store_url=url, speech=False, asterisk=False,
                    announce=lambda link: None, twilio_http_client=api)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        web = WebRig(app, client, clock)
        await web.add_user("sue", "supervisor")
        await web.add_user("kim", "agent", agent_id="1001")
        await web.add_user("lee", "agent", agent_id="1002")
        headers = {login: await web.bearer(login) for login in ("sue", "kim", "lee")}
        yield Rig(web, api, Poster(client.session, str(client.server.make_url("/"))), headers)


async def _due_task(rig: Rig) -> tuple[str, int]:
    case = await rig.web.store.cases.open_case(category="complaint", priority="general", customer_phone=PHONE)
    number = str(case.number)
    await rig.process.status_changed(number, "resolved")  # the follow-up rule: a task in 24 h
    rig.web.clock.advance(24 * 3600)
    [task] = (await (await rig.web.client.get("/api/follow-ups", headers=rig.headers["kim"])).json())["tasks"]
    assert task["case"] == number
    return number, int(task["id"])


async def _outcome(rig: Rig) -> None:
    calls = rig.process.follow_up_calls
    assert calls is not None
    await asyncio.wait_for(calls.recorded.wait(), 5)
    await calls.drain()
    writer = rig.web.store.writer_instance
    await writer.flush()


async def _status(rig: Rig, call_id: str, sid: str, status: str) -> None:
    text = await rig.poster.twiml(f"/twilio/follow-up?call={call_id}", {"CallSid": sid, "CallStatus": status})
    assert "<Response" in text


async def test_an_agent_takes_a_task_the_call_rings_them_and_reached_lands_on_task_and_case(rig: Rig) -> None:
    c = rig.web.client
    number, task_id = await _due_task(rig)
    rig.web.acd.login("1002")  # free, idle longest, and not the one who took the task
    rig.web.clock.advance(5)
    rig.web.acd.login("1001")
    assert (await c.post(f"/api/follow-ups/{task_id}/take", headers=rig.headers["sue"])).status == 403
    taken = await c.post(f"/api/follow-ups/{task_id}/take", headers=rig.headers["kim"])
    assert (await taken.json())["status"] == "taken"
    [request] = await rig.api.wait_for(1)
    assert request.url == CALLS_URL and request.data["To"] == PHONE and request.data["From"] == FROM
    assert "<Client><Identity>agent-1001</Identity></Client>" in request.data["Twiml"]
    call_id = f"followup-{task_id}-1"
    assert request.data["StatusCallback"] == f"{PUBLIC}/twilio/follow-up?call={call_id}"
    assert rig.web.acd.agent("1001").state.value == "on_call"
    assert rig.web.acd.agent("1002").state.value == "available"
    # lee (another agent) no longer sees kim's task, and may not record its outcome
    assert (await (await c.get("/api/follow-ups", headers=rig.headers["lee"])).json())["tasks"] == []
    sid = f"CA{0xF001:032x}"
    await _status(rig, call_id, sid, "in-progress")
    await _status(rig, call_id, sid, "completed")
    await _outcome(rig)

    async with rig.web.store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS).where(CALLS.c.id.like("followup-%")))).mappings().all()
    [row] = rows
    assert (row["id"], row["direction"], row["agent_id"], row["caller"]) == (call_id, "outbound", "1001", PHONE)
    case = await (await c.get(f"/api/cases/{number}", headers=rig.headers["sue"])).json()
    assert [(x["id"], x["direction"], x["outcome"]) for x in case["calls"]] == [(call_id, "outbound", "answered")]
    assert [n["body"] for n in case["notes"]] == [f"Follow-up call {call_id}: the customer was reached."]
    assert [n["author"] for n in case["notes"]] == ["kim"]
    done = await rig.process.outreach.follow_ups()
    assert done == []  # the task is done (only open and taken ones are listed)
    task = await rig.process.outreach._task(task_id)
    assert (task.status, task.outcome) == ("done", "reached")
    assert [c for c, _ in await _opened_cases(rig)] == [number]  # no case of its own for the call


async def _opened_cases(rig: Rig) -> list[tuple[str, str]]:
    found = await (await rig.web.client.get("/api/cases", headers=rig.headers["sue"])).json()
    return [(x["number"], x["status"]) for x in found["cases"]]


async def test_a_busy_customer_and_the_fallback_when_the_agent_logs_out(rig: Rig) -> None:
    c = rig.web.client
    number, task_id = await _due_task(rig)
    rig.web.acd.login("1002")
    await c.post(f"/api/follow-ups/{task_id}/take", headers=rig.headers["lee"])
    [request] = await rig.api.wait_for(1)
    assert "<Sip>sip:1002@pbx.example.com</Sip>" in request.data["Twiml"]
    await _status(rig, f"followup-{task_id}-1", f"CA{0xF001:032x}", "busy")
    await _outcome(rig)
    task = await rig.process.outreach._task(task_id)
    assert (task.status, task.outcome) == ("done", "busy")

    # a second task, taken while kim is paused; kim logs out: the task is open again
    _, second = await _due_task(rig)
    rig.web.acd.login("1001")
    rig.web.acd.pause("1001", "break")
    calls = rig.process.follow_up_calls
    assert calls is not None
    calls.recorded.clear()
    await c.post(f"/api/follow-ups/{second}/take", headers=rig.headers["kim"])
    assert len(rig.api.requests) == 1  # waiting for kim: nobody called
    rig.web.acd.logout("1001")
    await _outcome(rig)
    task = await rig.process.outreach._task(second)
    assert (task.status, task.taken_by, task.outcome) == ("open", None, None)
    case = await (await c.get(f"/api/cases/{task.case_number}", headers=rig.headers["sue"])).json()
    assert case["notes"][-1]["body"].endswith("not placed (the agent was not available); the task is open again.")
    assert number != task.case_number


async def test_a_call_from_before_a_restart_still_lands_on_the_task_of_its_taker(rig: Rig) -> None:
    from twilio_gateway.follow_up import FOLLOW_UPS_KEY

    c = rig.web.client
    number, task_id = await _due_task(rig)
    rig.web.acd.login("1001")
    await c.post(f"/api/follow-ups/{task_id}/take", headers=rig.headers["kim"])
    await rig.api.wait_for(1)
    calls = rig.process.follow_up_calls
    assert calls is not None
    calls.placed.clear()  # what a restart forgets: who took which call, the customer leg's sid
    rig.web.app[FOLLOW_UPS_KEY].calls.clear()
    call_id = f"followup-{task_id}-1"
    await _status(rig, call_id, f"CA{0xF001:032x}", "completed")
    await _outcome(rig)
    task = await rig.process.outreach._task(task_id)
    assert (task.status, task.outcome) == ("done", "reached")
    case = await (await c.get(f"/api/cases/{number}", headers=rig.headers["sue"])).json()
    assert [(n["author"], n["body"]) for n in case["notes"]] == [
        ("kim", f"Follow-up call {call_id}: the customer was reached.")]


async def test_taking_on_the_work_page_says_the_phone_rings(rig: Rig) -> None:
    c = rig.web.client
    _, task_id = await _due_task(rig)
    rig.web.acd.login("1001")
    csrf = (await rig.web.api_sign_in("kim"))["X-CSRF-Token"]
    page = await c.post(f"/work/tasks/{task_id}/take", data={"csrf_token": csrf})
    assert page.status == 200 and "notice=calling" in str(page.url)
    assert "먼저 상담원 전화가 울리고, 이어서 고객에게 전화를 겁니다." in await page.text()  # the sample: ko
    [request] = await rig.api.wait_for(1)
    assert "<Client><Identity>agent-1001</Identity></Client>" in request.data["Twiml"]
