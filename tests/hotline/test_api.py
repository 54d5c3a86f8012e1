"""The agents, live and emergency API on per-person accounts (tokens of three people)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hotline.durability import STORED_MENUS_KEY
from hotline.web.base.keys import ACD_COMMAND_KEY, ACD_KEY
from state.errors import StateError
from tests.web.harness import WebRig

ADMIN: dict[str, str] = {}
SUPERVISOR: dict[str, str] = {}
AGENT_1001: dict[str, str] = {}


@pytest.fixture
async def client(web_rig: WebRig) -> TestClient[Any, Any]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    ADMIN.clear()
    ADMIN.update(await web_rig.bearer("ada"))
    SUPERVISOR.clear()
    SUPERVISOR.update(await web_rig.bearer("sue"))
    AGENT_1001.clear()
    AGENT_1001.update(await web_rig.bearer("kim"))
    return web_rig.client


async def test_health_needs_no_token(client: TestClient[Any, Any]) -> None:
    response = await client.get("/health")  # the old name of /readyz
    assert response.status == 200
    assert (await response.json())["status"] == "ready"
    assert (await client.get("/healthz")).status == 200


async def test_api_rejects_missing_and_unknown_tokens(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/api/agents")).status == 401
    response = await client.get("/api/agents", headers={"Authorization": "Bearer nope"})
    assert response.status == 401
    assert (await response.json())["error"] == "unauthorized"


async def test_agent_logs_in_pauses_and_cannot_touch_others(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/agents/1001/state", json={"action": "login"}, headers=AGENT_1001)
    assert response.status == 200
    assert (await response.json())["state"] == "available"
    response = await client.post(
        "/api/agents/1001/state", json={"action": "pause", "reason": "break"}, headers=AGENT_1001
    )
    body = await response.json()
    assert (body["state"], body["pause_reason"], body["calls"]) == ("paused", "break", [])
    response = await client.post("/api/agents/1002/state", json={"action": "login"}, headers=AGENT_1001)
    assert response.status == 403
    assert (await client.get("/api/agents", headers=AGENT_1001)).status == 403


async def test_illegal_transition_is_a_409_and_state_is_kept(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/agents/1002/state", json={"action": "unpause"}, headers=ADMIN)
    assert response.status == 409
    body = await response.json()
    assert body["error"] == "illegal_transition"
    assert body["details"]["current"] == "logged_out"
    agent = await (await client.get("/api/agents/1002", headers=ADMIN)).json()
    assert agent["state"] == "logged_out"


async def test_bad_requests_get_clear_errors(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/agents/1001/state", data=b"{not json", headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["error"] == "bad_json"
    response = await client.post("/api/agents/1001/state", json={"action": "dance"}, headers=ADMIN)
    assert response.status == 400
    assert (await response.json())["error"] == "bad_action"
    response = await client.post("/api/agents/9999/state", json={"action": "login"}, headers=ADMIN)
    assert response.status == 404
    # the server keeps serving
    assert (await client.get("/health")).status == 200


async def test_live_view_masks_callers_for_supervisors_not_admins(
    client: TestClient[Any, Any],
) -> None:
    acd = client.server.app[ACD_KEY]
    acd.arrive("c1", "booking", caller="+821012345678")
    supervisor = await (await client.get("/api/live", headers=SUPERVISOR)).json()
    admin = await (await client.get("/api/live", headers=ADMIN)).json()
    assert supervisor["calls"][0]["caller"] == "+82******5678"
    assert admin["calls"][0]["caller"] == "+821012345678"
    assert supervisor["queues"]["booking"]["waiting"] == 1


async def test_agent_sees_own_caller_when_assigned(client: TestClient[Any, Any]) -> None:
    acd = client.server.app[ACD_KEY]
    await client.post("/api/agents/1001/state", json={"action": "login"}, headers=AGENT_1001)
    acd.arrive("c2", "booking", caller="+821099998888")
    live = await (await client.get("/api/live", headers=AGENT_1001)).json()
    assert live["calls"][0]["agent_id"] == "1001"
    me = await (await client.get("/api/agents/1001", headers=AGENT_1001)).json()
    assert (me["state"], me["calls"], me["capacity"]) == ("ringing", ["c2"], 1)
    assert live["calls"][0]["caller"] == "+821099998888"


async def test_supervisor_switches_emergency_mode(client: TestClient[Any, Any]) -> None:
    body = {"active": True, "announcement": {"en": "Storm: flights to Jeju are cancelled."}}
    response = await client.post("/api/emergency", json=body, headers=SUPERVISOR)
    assert response.status == 200
    state = await (await client.get("/api/emergency", headers=AGENT_1001)).json()
    assert state["active"] is True
    assert state["announcement"]["en"].startswith("Storm")
    assert (await client.post("/api/emergency", json=body, headers=AGENT_1001)).status == 403
    bad = await client.post("/api/emergency", json={"active": "yes"}, headers=SUPERVISOR)
    assert bad.status == 400
    still = await (await client.get("/api/emergency", headers=SUPERVISOR)).json()
    assert still["active"] is True
    await client.post("/api/emergency", json={"active": False}, headers=SUPERVISOR)
    assert (await (await client.get("/api/emergency", headers=SUPERVISOR)).json())["active"] is False


async def test_agent_actions_go_to_the_acd_command_and_a_missing_leader_is_a_503(
    web_rig: WebRig, client: TestClient[Any, Any]
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    async def leader(op: str, **args: Any) -> None:  # what a cluster follower installs
        sent.append((op, dict(args)))
        getattr(web_rig.acd, op)(args.pop("agent_id"), **args)

    web_rig.app[ACD_COMMAND_KEY] = leader
    response = await client.post("/api/agents/1001/state", json={"action": "login"}, headers=AGENT_1001)
    assert (response.status, (await response.json())["state"]) == (200, "available")
    response = await client.post(
        "/api/agents/1001/state", json={"action": "pause", "reason": "break"}, headers=AGENT_1001
    )
    assert response.status == 200
    assert sent == [("login", {"agent_id": "1001"}), ("pause", {"agent_id": "1001", "reason": "break"})]

    async def unreachable(op: str, **args: Any) -> None:
        raise StateError("the ACD leader did not answer in 2.0 s")

    web_rig.app[ACD_COMMAND_KEY] = unreachable
    response = await client.post("/api/agents/1001/state", json={"action": "unpause"}, headers=AGENT_1001)
    body = await response.json()
    assert (response.status, body["error"]) == (503, "leader_unavailable")
    assert web_rig.acd.agent("1001").state.value == "paused"  # nothing changed here


async def test_menu_versions_keep_the_signed_in_author_and_message(
    web_rig: WebRig, client: TestClient[Any, Any]
) -> None:
    name = "skyrail-main"
    stored = web_rig.app[STORED_MENUS_KEY]
    text = (await stored.get(name)).text
    changed = text.replace("Thank you for calling SkyRail Air.", "Welcome to SkyRail Air.")
    response = await client.post("/api/menus?message=new+welcome", data=changed.encode(), headers=ADMIN)
    assert response.status == 200, await response.text()
    response = await client.post(f"/api/menus/{name}/rollback", headers=ADMIN)
    assert response.status == 200
    versions = await stored.versions(name)
    assert [(v.version, v.author, v.message) for v in versions][-1] == (2, "ada", "new welcome")
    active = await stored.store.active()
    assert active[name] == 1
