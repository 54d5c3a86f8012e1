"""The queues-and-agents admin API: roles, a new version applied live to the running ACD (its
waiting calls and calls in progress kept), errors naming the key, history, diff, rollback,
disable, the audit, and the first import of the config file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.agent import AgentState
from acd.call import CallState
from hotline.web.acd_admin.service import ACD_CONFIG_KEY
from tests.web.harness import WebRig

MENU = (Path(__file__).resolve().parents[1] / "asterisk" / "menu.yaml").read_text(encoding="utf-8")
AGENT_1002 = {"id": "1002", "name": "Agent 1002", "skills": {"booking": 6, "baggage": 7, "general": 5, "lang_ko": 10}}
READS = [("GET", "/api/admin/queues", None), ("GET", "/api/admin/agents", None),
         ("GET", "/api/admin/agents/1002/versions", None), ("GET", "/api/admin/queues/booking/diff?a=1&b=1", None)]
WRITES = [
    ("POST", "/api/admin/agents", {"item": AGENT_1002}),
    ("POST", "/api/admin/queues", {"item": {"name": "claims", "skills": {"refund": 3}}}),
    ("POST", "/api/admin/agents/1002/rollback", {"version": 1}),
    ("POST", "/api/admin/queues/booking/rollback", {"version": 1}),
    ("POST", "/api/admin/agents/1002/disabled", {"disabled": False}),
]


@pytest.fixture
async def people(web_rig: WebRig) -> dict[str, dict[str, str]]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    return {login: await web_rig.bearer(login) for login in ("ada", "sue", "kim")}


async def _post(rig: WebRig, path: str, body: Any, who: dict[str, str]) -> tuple[int, Any]:
    response = await rig.client.post(path, json=body, headers=who)
    return response.status, await response.json()


@pytest.mark.parametrize(("method", "path", "body"), READS)
async def test_reading_is_for_admins_and_supervisors(
    web_rig: WebRig, people: dict[str, dict[str, str]], method: str, path: str, body: object
) -> None:
    assert (await web_rig.client.request(method, path, headers=people["kim"])).status == 403
    assert (await web_rig.client.request(method, path)).status == 401
    for login in ("ada", "sue"):
        response = await web_rig.client.request(method, path, headers=people[login])
        assert response.status == 200, (login, await response.text())


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_changing_is_for_admins(
    web_rig: WebRig, people: dict[str, dict[str, str]], method: str, path: str, body: object
) -> None:
    for login in ("kim", "sue"):
        response = await web_rig.client.request(method, path, json=body, headers=people[login])
        assert response.status == 403, login
    assert (await web_rig.client.request(method, path, json=body)).status in (401, 403)
    response = await web_rig.client.request(method, path, json=body, headers=people["ada"])
    assert response.status == 200, await response.text()


async def test_the_config_file_is_the_first_import(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    response = await web_rig.client.get("/api/admin/queues", headers=people["sue"])
    queues = {q["name"]: q for q in (await response.json())["items"]}
    assert set(queues) == set(web_rig.acd.queues)
    booking = queues["booking"]
    assert (booking["version"], booking["author"]) == (1, "config")
    assert booking["item"]["escalation"][0] == {"after": 60.0, "min_level": 3, "groups": [], "offer_callback": False}
    agents = (await (await web_rig.client.get("/api/admin/agents", headers=people["sue"])).json())["items"]
    assert [a["name"] for a in agents] == ["1001", "1002", "1003", "1004", "1005"]


async def test_a_new_skill_is_applied_live_and_the_waiting_call_goes_to_the_agent(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    acd = web_rig.acd
    acd.login("1003")  # refund 8, complaint 7: no booking skill
    acd.arrive("c-wait", "booking")
    assert acd.call("c-wait").state is CallState.QUEUED
    item = {"id": "1003", "name": "Agent 1003", "skills": {"refund": 8, "booking": 6}, "capacity": 2}
    status, body = await _post(web_rig, "/api/admin/agents", {"item": item, "message": "trained"}, people["ada"])
    assert status == 200, body
    assert body["version"] == 2 and body["author"] == "ada" and body["item"]["skills"] == {"booking": 6, "refund": 8}
    assert acd.call("c-wait").agent_id == "1003"
    assert acd.agent("1003").capacity == 2
    audit = await web_rig.store.accounts.audit(limit=1, actor="ada")
    assert audit[0].action == "agent.save" and audit[0].target == "agent:1003"
    # the same again: no new version
    status, again = await _post(web_rig, "/api/admin/agents", {"item": item}, people["ada"])
    assert status == 200 and again["version"] == 2


async def test_a_queue_edit_keeps_its_waiting_calls_and_calls_in_progress(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    acd = web_rig.acd
    acd.login("1002")
    acd.arrive("talking", "booking")
    acd.answer("talking")
    for i in range(3):
        acd.arrive(f"w{i}", "booking", priority=1 if i == 1 else 0)
        web_rig.clock.advance(1)
    order = [c.id for c in acd.waiting_calls("booking")]
    item = {"name": "booking", "skills": {"booking": 7}, "service_level": {"target": 0.9, "seconds": 15},
            "max_wait": 600, "overflow": "general", "policy": "best_skill",
            "escalation": [{"after": 30, "min_level": 4}]}
    status, body = await _post(web_rig, "/api/admin/queues", {"item": item}, people["ada"])
    assert status == 200, body
    assert [c.id for c in acd.waiting_calls("booking")] == order
    assert acd.call("talking").state is CallState.ON_CALL and acd.agent("1002").state is AgentState.ON_CALL
    queue = acd.queues["booking"]
    assert (queue.sl_target, queue.sl_seconds, queue.max_wait, queue.policy.value) == (0.9, 15.0, 600.0, "best_skill")
    versions = (await (await web_rig.client.get("/api/admin/queues/booking/versions",
                                                headers=people["sue"])).json())["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    diff = (await (await web_rig.client.get("/api/admin/queues/booking/diff?a=1&b=2",
                                            headers=people["sue"])).json())["diff"]
    assert "\n-  booking: 5\n" in diff and "\n+  booking: 7\n" in diff and "\n+  target: 0.9\n" in diff
    assert diff.index("booking: 7") < diff.index("target: 0.9")  # in the file's order: skills first
    status, rolled = await _post(web_rig, "/api/admin/queues/booking/rollback", {"version": 1}, people["ada"])
    assert status == 200 and rolled["version"] == 3 and rolled["message"] == "rollback to version 1"
    assert acd.queues["booking"].skills == {"booking": 5}
    assert [c.id for c in acd.waiting_calls("booking")] == order
    audit = await web_rig.store.accounts.audit(limit=1, actor="ada")
    assert audit[0].action == "queue.rollback"


@pytest.mark.parametrize(("item", "key", "words"), [
    ({"id": "1001", "skills": {"booking": 11}}, "skills.booking", "10"),
    ({"id": "1001", "skils": {"booking": 3}}, "skils", "did you mean 'skills'"),
    ({"id": "1001", "capacity": 0}, "capacity", "1"),
    ({"id": "1001", "groups": "overflow"}, "groups", "list"),
])
async def test_a_bad_agent_is_refused_naming_the_key(
    web_rig: WebRig, people: dict[str, dict[str, str]], item: dict[str, Any], key: str, words: str
) -> None:
    before = web_rig.acd.agent("1001").config
    status, body = await _post(web_rig, "/api/admin/agents", {"item": item}, people["ada"])
    assert status == 422, body
    assert body["error"] == "invalid_item"
    assert [p["key"] for p in body["problems"]] == [key] and words in body["problems"][0]["message"], body
    assert web_rig.acd.agent("1001").config is before
    versions = await web_rig.app[ACD_CONFIG_KEY].store.versions("agent", "1001")
    assert len(versions) == 1


@pytest.mark.parametrize(("item", "key"), [
    ({"name": "booking", "overflow": "nowhere"}, "overflow"),
    ({"name": "general", "overflow": "booking"}, "overflow"),  # booking -> general: a circle
    ({"name": "booking", "policy": "random"}, "policy"),
    ({"name": "booking", "escalation": [{"min_level": 2}]}, "escalation[0]"),
    ({"name": "booking", "service_level": {"target": 1.5}}, "service_level.target"),
])
async def test_a_bad_queue_is_refused_naming_the_key(
    web_rig: WebRig, people: dict[str, dict[str, str]], item: dict[str, Any], key: str
) -> None:
    before = dict(web_rig.acd.queues)
    status, body = await _post(web_rig, "/api/admin/queues", {"item": item}, people["ada"])
    assert status == 422, body
    assert body["problems"][0]["key"] == key, body
    assert web_rig.acd.queues == before


async def test_a_new_queue_and_agent_and_disabling(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    acd = web_rig.acd
    status, body = await _post(web_rig, "/api/admin/queues", {"item": {
        "name": "claims", "skills": {"claims": 2}, "overflow": "general", "max_wait": 120}}, people["ada"])
    assert status == 200 and body["version"] == 1, body
    status, body = await _post(web_rig, "/api/admin/agents", {"item": {"id": "2001", "skills": {"claims": 5}}},
                               people["ada"])
    assert status == 200, body
    acd.login("2001")
    acd.arrive("c1", "claims")
    assert acd.call("c1").agent_id == "2001"
    acd.answer("c1")
    status, body = await _post(web_rig, "/api/admin/agents/2001/disabled", {"disabled": True}, people["ada"])
    assert status == 200 and body["item"]["disabled"] is True
    assert acd.call("c1").state is CallState.ON_CALL  # the call goes on
    acd.end("c1")
    web_rig.clock.advance(60)  # claims has the default wrap-up (0 s): logged out once free
    assert acd.agent("2001").state is AgentState.LOGGED_OUT
    response = await web_rig.client.post("/api/agents/2001/state", json={"action": "login"}, headers=people["ada"])
    assert response.status == 409
    audit = await web_rig.store.accounts.audit(limit=1, actor="ada")
    assert audit[0].action == "agent.disable"
    status, _ = await _post(web_rig, "/api/admin/agents/9999/disabled", {"disabled": True}, people["ada"])
    assert status == 404
    assert (await web_rig.client.get("/api/admin/agents/9999/versions", headers=people["ada"])).status == 404


async def test_the_openapi_document_lists_the_admin_endpoints(web_rig: WebRig) -> None:
    spec = await (await web_rig.client.get("/api/openapi.json")).json()
    for path in ("/api/admin/queues", "/api/admin/agents", "/api/admin/agents/{name}/disabled",
                 "/api/admin/queues/{name}/rollback", "/api/admin/agents/{name}/diff"):
        assert path in spec["paths"], path
    assert "AcdItemIn" in spec["components"]["schemas"] and "AcdInvalidOut" in spec["components"]["schemas"]


async def test_the_page_is_for_admins_and_shows_errors_at_the_key(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    assert (await web_rig.client.get("/admin/acd", headers=people["sue"])).status == 403
    response = await web_rig.client.get("/admin/acd", headers=people["ada"])
    assert response.status == 200
    html = await response.text()
    assert 'data-testid="queue-booking"' in html and 'data-testid="agent-1005"' in html
    response = await web_rig.client.get("/admin/acd/agent/1001/history", headers=people["ada"])
    assert response.status == 200 and 'data-testid="version-1"' in await response.text()
    assert (await web_rig.client.get("/admin/acd/agent/nobody/history", headers=people["ada"])).status == 404


async def test_a_menu_may_send_callers_to_a_queue_added_live(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    menu = MENU.replace("queue: booking", "queue: claims")
    headers = {**people["ada"], "Content-Type": "application/yaml"}
    refused = await web_rig.client.post("/api/menus?check_only=true", data=menu.encode(), headers=headers)
    assert refused.status == 422 and "claims" in await refused.text()
    status, _ = await _post(web_rig, "/api/admin/queues", {"item": {"name": "claims"}}, people["ada"])
    assert status == 200
    accepted = await web_rig.client.post("/api/menus", data=menu.encode(), headers=headers)
    assert accepted.status == 200, await accepted.text()
