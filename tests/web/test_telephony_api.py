"""The telephony API: transfers (blind, attended with complete/cancel, conference, leave) for
the agent on the call and staff, listen/whisper/barge for staff only; roles checked, every
change audited, refusals as JSON 4xx."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.harness import WebRig


@pytest.fixture
async def people(web_rig: WebRig) -> dict[str, dict[str, str]]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    await web_rig.add_user("lee", "agent", agent_id="1002")
    return {login: await web_rig.bearer(login) for login in ("ada", "sue", "kim", "lee")}


def talking(rig: WebRig, call_id: str = "c1") -> None:
    """1001 talks on `call_id` (booking); 1002 and 1004 are free."""
    acd = rig.acd
    acd.login("1001")
    acd.arrive(call_id, "booking")
    acd.answer(call_id)
    acd.login("1002")
    acd.login("1004")


async def post(rig: WebRig, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    response = await rig.client.post(path, json=body, headers=headers)
    return response.status, await response.json()


async def test_an_agent_blind_transfers_its_call_to_another_agent(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    talking(web_rig)
    status, out = await post(web_rig, "/api/calls/c1/transfer", {"mode": "blind", "to": "agent", "target": "1002"},
                             people["kim"])
    assert status == 200, out
    assert out["state"] == "ringing" and out["agent_id"] == "1002"
    assert web_rig.acd.agent("1001").state.value == "wrap_up"
    audit = await web_rig.store.accounts.audit(limit=5, actor="kim")
    assert [(e.action, e.target, e.after["target"]) for e in audit] == [("call.blind_transfer", "call:c1", "1002")]


async def test_an_agent_may_not_touch_another_agents_call_nor_change_its_priority(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    talking(web_rig)
    status, out = await post(web_rig, "/api/calls/c1/transfer", {"mode": "blind", "to": "agent", "target": "1004"},
                             people["lee"])
    assert (status, out["error"]) == (403, "forbidden")
    status, out = await post(web_rig, "/api/calls/c1/transfer",
                             {"mode": "blind", "to": "queue", "target": "general", "priority": 9}, people["kim"])
    assert (status, out["error"]) == (403, "priority_not_allowed")
    assert web_rig.acd.call("c1").agent_id == "1001"


async def test_a_supervisor_transfers_to_a_queue_with_a_new_priority(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    talking(web_rig)
    web_rig.acd.logout("1002")
    web_rig.acd.logout("1004")
    arrived = web_rig.acd.call("c1").arrived_at
    status, out = await post(web_rig, "/api/calls/c1/transfer",
                             {"mode": "blind", "to": "queue", "target": "refund", "priority": 9}, people["sue"])
    assert status == 200, out
    call = web_rig.acd.call("c1")
    assert (call.queue, call.priority, call.arrived_at, out["state"]) == ("refund", 9, arrived, "queued")


async def test_attended_transfer_consult_then_complete(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    talking(web_rig)
    status, out = await post(web_rig, "/api/calls/c1/transfer", {"mode": "attended", "to": "agent", "target": "1002"},
                             people["kim"])
    assert status == 200, out
    assert [(p["id"], p["role"], p["state"]) for p in out["parties"]] == [("1002", "consult", "ringing")]
    web_rig.acd.party_answered("c1", "1002")  # the phone answered (the PBX says so)
    status, out = await post(web_rig, "/api/calls/c1/consult", {"action": "complete"}, people["kim"])
    assert status == 200, out
    assert (out["agent_id"], out["parties"]) == ("1002", [])


async def test_a_cancelled_consult_and_a_conference_left_to_the_others(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    talking(web_rig)
    await post(web_rig, "/api/calls/c1/transfer", {"mode": "attended", "to": "agent", "target": "1002"}, people["kim"])
    status, out = await post(web_rig, "/api/calls/c1/consult", {"action": "cancel"}, people["kim"])
    assert (status, out["parties"], out["agent_id"]) == (200, [], "1001")
    status, out = await post(web_rig, "/api/calls/c1/transfer",
                             {"mode": "conference", "to": "number", "target": "+82212345678"}, people["kim"])
    assert status == 200, out
    assert out["parties"][0]["id"] == "tel:+82212345678"
    web_rig.acd.party_answered("c1", "tel:+82212345678")
    status, out = await post(web_rig, "/api/calls/c1/leave", {}, people["kim"])
    assert (status, out["state"]) == (200, "ended")  # the caller stays with the number, off the ACD
    audit = await web_rig.store.accounts.audit(limit=10, actor="kim")
    actions = [e.action for e in reversed(audit)]
    assert actions == ["call.attended_transfer", "call.consult_cancel", "call.conference_transfer", "call.leave"]
    assert audit[1].after["target"] != "+82212345678"  # the number is masked in the audit


async def test_refusals_are_clear_json(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    talking(web_rig)
    status, out = await post(web_rig, "/api/calls/c1/consult", {"action": "complete"}, people["kim"])
    assert (status, out["error"]) == (409, "illegal_transition")
    status, out = await post(web_rig, "/api/calls/c1/transfer", {"mode": "blind", "to": "agent", "target": "1003"},
                             people["kim"])
    assert status == 409  # 1003 is not logged in
    status, out = await post(web_rig, "/api/calls/c1/transfer", {"mode": "sideways", "to": "agent", "target": "1"},
                             people["kim"])
    assert (status, out["error"]) == (400, "bad_transfer")
    status, out = await post(web_rig, "/api/calls/c1/transfer", {"mode": "blind", "to": "number", "target": "12"},
                             people["kim"])
    assert (status, out["error"]) == (422, "bad_number")
    status, out = await post(web_rig, "/api/calls/nope/transfer", {"mode": "blind", "to": "agent", "target": "1002"},
                             people["kim"])
    assert status == 404


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_supervisors_monitor_agents_do_not(web_rig: WebRig, people: dict[str, dict[str, str]], mode: str) -> None:
    talking(web_rig)
    status, out = await post(web_rig, "/api/calls/c1/monitor", {"mode": mode}, people["kim"])
    assert (status, out["error"]) == (403, "forbidden")
    status, out = await post(web_rig, "/api/calls/c1/monitor", {"mode": mode}, people["sue"])
    assert status == 200, out
    assert out["monitors"][0]["supervisor"] == "sue" and out["monitors"][0]["mode"] == mode
    status, out = await post(web_rig, "/api/calls/c1/monitor", {"mode": mode, "phone": "desk7"}, people["ada"])
    assert status == 200 and {m["supervisor"] for m in out["monitors"]} == {"sue", "desk7"}
    status, out = await post(web_rig, "/api/calls/c1/monitor/stop", {}, people["sue"])
    assert status == 200 and [m["supervisor"] for m in out["monitors"]] == ["desk7"]
    status, out = await post(web_rig, "/api/calls/c1/monitor/stop", {}, people["sue"])
    assert status == 409
    audit = await web_rig.store.accounts.audit(limit=5, actor="sue")
    assert [(e.action, e.after["phone"]) for e in reversed(audit)] == [(f"call.monitor_{mode}", "sue"),
                                                                         ("call.monitor_stop", "sue")]


async def test_who_is_on_a_call(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    talking(web_rig)
    response = await web_rig.client.get("/api/calls/c1/parties", headers=people["kim"])
    assert response.status == 200
    assert (await response.json())["agent_id"] == "1001"
    assert (await web_rig.client.get("/api/calls/c1/parties", headers=people["lee"])).status == 403
