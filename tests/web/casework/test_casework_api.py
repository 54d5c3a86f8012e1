"""Desktop, cases and calls API per role: allowed, denied and masked; every change audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from casestore.models import AUDIT_LOG, CALLS, IVR_STEPS
from hotline.encryption import generate_key
from tests.web.harness import WebRig, sample_config, start_rig

CALLER = "+821012345678"


@pytest.fixture
async def people(web_rig: WebRig) -> dict[str, dict[str, str]]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    await web_rig.add_user("lee", "agent", agent_id="1002")
    return {login: await web_rig.bearer(login) for login in ("ada", "sue", "kim", "lee")}


async def _stored_call(rig: WebRig, call_id: str, agent: str = "1001") -> None:
    async with rig.store.engine.begin() as conn:
        await conn.execute(CALLS.insert().values(id=call_id, caller=CALLER, queue="booking", agent_id=agent,
                                                 started_at=rig.clock.now(), outcome="answered"))
        await conn.execute(IVR_STEPS.insert().values(call_id=call_id, at=rig.clock.now(), node="booking_ref",
                                                     kind="dtmf", input="424242", seq=1))


async def test_screen_pop_shows_the_agent_their_own_caller_and_ivr_values(
    web_rig: WebRig, people: dict[str, dict[str, str]],
) -> None:
    c, kim = web_rig.client, people["kim"]
    await web_rig.store.cases.upsert_customer(CALLER, name="Kim Minjun", tier="gold", language="ko")
    assert (await c.post("/api/desktop/state", json={"action": "ready"}, headers=kim)).status == 200
    await _stored_call(web_rig, "call-1")
    web_rig.acd.arrive("call-1", "booking", caller=CALLER, source="simulation")
    desk = await (await c.get("/api/desktop", headers=kim)).json()
    assert desk["agent"]["state"] == "ringing" and desk["call"]["state"] == "ringing"
    assert desk["call"]["caller"] == CALLER
    assert desk["call"]["pop"]["customer"]["name"] == "Kim Minjun"
    assert desk["call"]["pop"]["customer"]["tier"] == "gold"
    assert desk["call"]["pop"]["collected"] == {"booking_ref": "424242"}
    assert "break" in desk["pause_reasons"] and "callback" in desk["dispositions"]
    # the desktop is the agent's own: staff have none, another agent sees only their own
    assert (await c.get("/api/desktop", headers=people["sue"])).status == 403
    lee = await (await c.get("/api/desktop", headers=people["lee"])).json()
    assert lee["call"] is None
    # the same call elsewhere: a supervisor sees the caller and the booking number masked
    sue = await (await c.get("/api/calls/call-1", headers=people["sue"])).json()
    assert sue["caller"] == "+82******5678" and sue["collected"] == {"booking_ref": "**4242"}
    ada = await (await c.get("/api/calls/call-1", headers=people["ada"])).json()
    assert ada["caller"] == CALLER and ada["collected"] == {"booking_ref": "424242"}
    assert (await c.get("/api/calls/call-1", headers=people["lee"])).status == 403


async def test_desk_actions_use_the_config_codes(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    c, kim = web_rig.client, people["kim"]
    await c.post("/api/desktop/state", json={"action": "ready"}, headers=kim)
    refused = await c.post("/api/desktop/state", json={"action": "pause", "reason": "nap"}, headers=kim)
    assert refused.status == 400 and (await refused.json())["error"] == "unknown_reason"
    paused = await c.post("/api/desktop/state", json={"action": "pause", "reason": "lunch"}, headers=kim)
    assert (await paused.json())["agent"]["pause_reason"] == "lunch"
    await c.post("/api/desktop/state", json={"action": "ready"}, headers=kim)
    web_rig.acd.arrive("call-2", "booking", caller=CALLER, source="simulation")
    web_rig.acd.answer("call-2")
    pending = await (await c.post("/api/desktop/state", json={"action": "logout_when_free"}, headers=kim)).json()
    assert pending["logout_pending"] is True and pending["agent"]["state"] == "on_call"
    bad = await c.post("/api/desktop/wrapup", json={"disposition": "whatever"}, headers=kim)
    assert (await bad.json())["error"] == "unknown_disposition"
    async with web_rig.store.engine.connect() as conn:
        actions = [a for (a,) in (await conn.execute(select(AUDIT_LOG.c.action))).all()]
    assert {"desktop.ready", "desktop.pause", "desktop.logout_when_free"} <= set(actions)


async def test_case_work_by_role(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    c = web_rig.client
    await _stored_call(web_rig, "call-3", agent="1001")
    opened = await c.post("/api/cases", json={"category": "refund", "priority": "major", "call_id": "call-3",
                                              "subject": "refund to 01012345678"}, headers=people["kim"])
    assert opened.status == 201
    number = (await opened.json())["number"]
    # another agent may not open a case for kim's call, nor change kim's case
    assert (await c.post("/api/cases", json={"category": "refund", "priority": "major", "call_id": "call-3"},
                         headers=people["lee"])).status == 403
    assert (await c.post(f"/api/cases/{number}/notes", json={"body": "x"}, headers=people["lee"])).status == 403
    assert (await c.post(f"/api/cases/{number}/assign", json={"agent_id": "1002"}, headers=people["kim"])).status == 403
    bad_category = await c.post("/api/cases", json={"category": "pizza", "priority": "major"}, headers=people["sue"])
    assert (await bad_category.json())["error"] == "unknown_category"
    # supervisors assign and resolve; resolving needs a known code
    assert (await c.post(f"/api/cases/{number}/assign", json={"agent_id": "1002"}, headers=people["sue"])).status == 200
    no_code = await c.post(f"/api/cases/{number}/status", json={"status": "resolved"}, headers=people["sue"])
    assert (await no_code.json())["error"] == "resolution_code_needed"
    illegal = await c.post(f"/api/cases/{number}/status", json={"status": "closed"}, headers=people["sue"])
    assert illegal.status == 409
    done = await c.post(f"/api/cases/{number}/status", json={"status": "resolved", "resolution_code": "refunded"},
                        headers=people["sue"])
    assert (await done.json())["resolution_code"] == "refunded"
    reopened = await c.post(f"/api/cases/{number}/status", json={"status": "open"}, headers=people["sue"])
    assert (await reopened.json())["status"] == "open"
    # masked: the subject's phone number and the customer for everyone but admins
    sue = await (await c.get(f"/api/cases/{number}", headers=people["sue"])).json()
    assert "01012345678" not in sue["subject"] and sue["customer_phone"] == "+82******5678"
    assert [(h["from_status"], h["to_status"]) for h in sue["changes"]] == [("open", "resolved"), ("resolved", "open")]
    ada = await (await c.get(f"/api/cases/{number}", headers=people["ada"])).json()
    assert "01012345678" in ada["subject"] and ada["customer_phone"] == CALLER
    assert (await c.get("/api/cases?status=open,nope", headers=people["kim"])).status == 400
    by_status = await (await c.get("/api/cases?status=resolved,closed", headers=people["kim"])).json()
    assert by_status["cases"] == []
    listed = await (await c.get("/api/cases?assignee=1002&status=open", headers=people["kim"])).json()
    assert [k["number"] for k in listed["cases"]] == [number] and listed["cases"][0]["customer_phone"] == "+82******5678"
    assert (await c.get("/api/cases/attention", headers=people["kim"])).status == 403
    attention = await (await c.get("/api/cases/attention", headers=people["sue"])).json()
    assert attention["unassigned"] == []
    # recordings: staff only
    assert (await c.get("/api/recordings/1/audio", headers=people["kim"])).status == 403
    assert (await c.get("/api/recordings/999/audio", headers=people["sue"])).status == 404


async def test_a_call_that_rang_out_leaves_the_desktop(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    c = web_rig.client
    await c.post("/api/desktop/state", json={"action": "ready"}, headers=people["kim"])
    web_rig.acd.arrive("call-9", "booking", caller=CALLER, source="simulation")
    assert (await (await c.get("/api/desktop", headers=people["kim"])).json())["call"]["id"] == "call-9"
    web_rig.acd.ring_no_answer("call-9")  # back to the queue: kim is paused, the caller is not hers
    desk = await (await c.get("/api/desktop", headers=people["kim"])).json()
    assert desk["call"] is None and desk["agent"]["state"] == "paused"


async def test_an_encrypted_recording_is_heard_decrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_KEYS", f"k1:{generate_key()}")
    audio = b"RIFF" + bytes(range(256)) * 8
    async for rig in start_rig(tmp_path, sample_config(encryption={})):
        await rig.add_user("sue", "supervisor")
        headers = await rig.bearer("sue")
        recording = await rig.add_recording("c-enc", audio)
        stored = next((tmp_path / "data").rglob("*.enc"), None) or next(
            p for p in rig.store.recordings.root.rglob("*") if p.is_file()
        )
        assert audio[4:64] not in stored.read_bytes()  # encrypted at rest
        answer = await rig.client.get(f"/api/recordings/{recording}/audio", headers=headers)
        assert answer.status == 200 and await answer.read() == audio
