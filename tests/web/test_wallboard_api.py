"""The wallboard API: figures from the report's definitions for today plus the live ACD,
alerts (API and live event), supervisor actions audited, roles, and the emergency override
refusing unknown scopes and surviving a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd import held
from acd.callbacks import Request
from casestore.reports import service_report
from hotline.web.base.keys import EMERGENCY_KEY, WEB_KEY
from hotline.web.base.live import Connection, LiveEvent
from hotline.web.wallboard.routes import WALLBOARD_KEY
from hotline.web.wallboard.service import INTERVAL, day_bounds
from tests.web.harness import WebRig, sample_config, start_rig

STAFF_ONLY = [
    ("GET", "/api/wallboard", None),
    ("GET", "/api/wallboard/alerts", None),
    ("POST", "/api/wallboard/agents/1002/force", {"action": "logout"}),
]


@pytest.fixture
async def people(web_rig: WebRig) -> dict[str, dict[str, str]]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    return {login: await web_rig.bearer(login) for login in ("ada", "sue", "kim")}


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ONLY)
async def test_wallboard_endpoints_are_for_staff(
    web_rig: WebRig, people: dict[str, dict[str, str]], method: str, path: str, body: object
) -> None:
    response = await web_rig.client.request(method, path, json=body, headers=people["kim"])
    assert response.status == 403
    assert (await web_rig.client.request(method, path, json=body)).status in (401, 403)  # POST: CSRF first
    for login in ("ada", "sue"):
        response = await web_rig.client.request(method, path, json=body, headers=people[login])
        assert response.status == 200, (login, await response.text())


async def _flow(rig: WebRig) -> None:
    """booking today: one answered at once, one answered after 40 s (over the 20 s
    threshold), one abandoned after 2 s (short), one abandoned after 50 s; one waiting."""
    acd, clock = rig.acd, rig.clock
    acd.login("1001")
    acd.arrive("a1", "booking")
    acd.answer("a1")
    clock.advance(60)
    acd.end("a1")
    acd.wrap_done("1001") if acd.agent("1001").state.value == "wrap_up" else None
    acd.pause("1001", "lunch")
    acd.arrive("a2", "booking")
    clock.advance(40)
    acd.unpause("1001")
    acd.answer("a2")
    clock.advance(30)
    acd.end("a2")
    acd.wrap_done("1001")
    acd.pause("1001", "lunch")
    acd.arrive("s1", "booking")  # nobody for booking: the rest wait
    clock.advance(2)
    acd.abandon("s1")
    acd.arrive("l1", "booking")
    clock.advance(50)
    acd.abandon("l1")
    acd.arrive("w1", "booking")
    clock.advance(7)
    await rig.store.writer_instance.flush()


async def test_figures_are_the_reports_for_today_and_the_live_acd(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    await _flow(web_rig)
    now = web_rig.clock.now()  # a callback promised for a slot later today: held, not waiting
    held.hold_callback(web_rig.acd, Request("later", "booking", "+821012345678", now, now, (now + 900, now + 1800)))
    board = await (await web_rig.client.get("/api/wallboard", headers=people["sue"])).json()
    booking = next(q for q in board["queues"] if q["name"] == "booking")
    assert booking["waiting"] == 1 and booking["longest_wait"] == pytest.approx(7)
    assert booking["callbacks_held"] == 1
    assert all(q["callbacks_held"] == 0 for q in board["queues"] if q["name"] != "booking")
    assert (booking["offered"], booking["answered"], booking["abandoned"], booking["short_abandons"]) == (5, 2, 2, 1)
    assert booking["service_level"] == pytest.approx(1 / 5)
    assert booking["asa"] == pytest.approx(20)
    assert (booking["sl_target"], booking["sl_seconds"]) == (0.8, 20)
    agent = next(a for a in board["agents"] if a["id"] == "1001")
    assert agent["calls_today"] == 2
    assert board["waiting"][0]["id"] == "w1"
    # the same function as `hotline report`, over today at 15 minutes
    start, end = day_bounds(web_rig.clock.now())
    report = await service_report(
        web_rig.store.engine, start, end, now=web_rig.clock.now(), interval=INTERVAL,
        targets=web_rig.app[WALLBOARD_KEY].targets(),
    )
    row = next(q for q in report.queues if q.queue == "booking")
    assert row.figures.service_level == booking["service_level"]
    assert len(board["intervals"]) == 96
    assert sum(i["offered"] for i in board["intervals"]) == report.overall.figures.offered == 5
    assert "caller" not in str(board)


async def _next_alert(conn: Connection) -> LiveEvent:
    while True:
        event = await asyncio.wait_for(conn.queue.get(), 5)
        if event.kind == "wallboard_alert":
            return event


async def test_alerts_in_the_api_and_as_live_events(tmp_path: Path) -> None:
    async for web_rig in start_rig(tmp_path, sample_config(wallboard={"check_interval": 300})):
        await _alerts(web_rig)


async def _alerts(web_rig: WebRig) -> None:
    await web_rig.add_user("sue", "supervisor")
    people = {"sue": await web_rig.bearer("sue")}
    await _flow(web_rig)  # booking at 20% against 80% after 5 calls
    service = web_rig.app[WALLBOARD_KEY]
    publisher = web_rig.app[WEB_KEY].live
    who = (await web_rig.app[WEB_KEY].accounts.token(people["sue"]["Authorization"][7:], touch=False))
    assert who is not None
    conn: Connection = publisher.connect(who)
    raised = await service.check_alerts()
    assert [(a.queue, a.kind) for a in raised] == [("booking", "sl_breach")]
    event = await _next_alert(conn)
    assert (event.kind, event.data["state"], event.data["queue"]) == ("wallboard_alert", "raised", "booking")
    web_rig.clock.advance(200)  # w1 has waited 207 s: over the 120 s default
    await service.check_alerts()
    event = await _next_alert(conn)
    assert (event.data["kind"], event.data["state"]) == ("long_wait", "raised")
    body = await (await web_rig.client.get("/api/wallboard/alerts", headers=people["sue"])).json()
    assert {(a["queue"], a["kind"]) for a in body["alerts"]} == {("booking", "sl_breach"), ("booking", "long_wait")}
    web_rig.acd.abandon("w1")
    await service.check_alerts()
    event = await _next_alert(conn)
    assert (event.data["kind"], event.data["state"]) == ("long_wait", "cleared")
    publisher.disconnect(conn)


async def test_supervisor_actions_change_the_acd_and_are_audited(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    acd, c, sue = web_rig.acd, web_rig.client, people["sue"]
    acd.arrive("q1", "refund")
    acd.arrive("q2", "refund")
    r = await c.post("/api/wallboard/calls/q2/priority", json={"priority": 4}, headers=sue)
    assert r.status == 200 and (await r.json())["position"] == 1
    assert [x.id for x in acd.waiting_calls("refund")] == ["q2", "q1"]
    r = await c.post("/api/wallboard/calls/q1/move", json={"queue": "general"}, headers=sue)
    assert (await r.json())["queue"] == "general" and acd.call("q1").queue == "general"
    r = await c.post("/api/wallboard/calls/q1/move", json={"queue": "nowhere"}, headers=sue)
    assert r.status == 400 and acd.call("q1").queue == "general"
    r = await c.post("/api/wallboard/calls/q1/priority", json={"priority": "high"}, headers=sue)
    assert r.status == 400 and (await r.json())["error"] == "bad_priority"
    acd.login("1003")  # refund agent: takes q2 and rings
    r = await c.post("/api/wallboard/agents/1003/force", json={"action": "pause", "reason": "coaching"}, headers=sue)
    out = await r.json()
    assert (out["state"], out["pending"]) == ("ringing", "coaching")
    acd.answer("q2")
    acd.end("q2")
    acd.wrap_done("1003") if acd.agent("1003").state.value == "wrap_up" else None
    assert (acd.agent("1003").state.value, acd.agent("1003").pause_reason) == ("paused", "coaching")
    acd.abandon("q1")
    acd.login("1002")
    r = await c.post("/api/wallboard/agents/1002/force", json={"action": "logout"}, headers=sue)
    assert (await r.json())["state"] == "logged_out"
    audit = await web_rig.store.accounts.audit(limit=20, actor="sue")
    actions = [(e.action, e.target) for e in reversed(audit)]
    assert actions == [
        ("wallboard.call_priority", "call:q2"), ("wallboard.call_move", "call:q1"),
        ("wallboard.force_pause", "agent:1003"), ("wallboard.force_logout", "agent:1002"),
    ]
    assert audit[-1].before == {"queue": "refund", "priority": 0, "state": "queued", "position": 2}


async def test_emergency_scope_must_exist_and_the_state_survives_a_restart(tmp_path: Path) -> None:
    async for rig in start_rig(tmp_path):
        await rig.add_user("sue", "supervisor")
        sue = await rig.bearer("sue")
        r = await rig.client.post("/api/emergency", json={"active": True, "scope": ["typhoon"]}, headers=sue)
        body = await r.json()
        assert r.status == 400 and body["error"] == "unknown_scope" and body["details"]["known"] == ["disruption"]
        assert not rig.app[EMERGENCY_KEY].current().active
        r = await rig.client.post(
            "/api/emergency", json={"active": True, "scope": ["disruption"], "announcement": {"en": "Storm"}},
            headers=sue,
        )
        assert r.status == 200
    async for rig in start_rig(tmp_path):  # the same store: a restart
        current = rig.app[EMERGENCY_KEY].current()
        assert (current.active, sorted(current.scope), dict(current.announcement), current.by) == (
            True, ["disruption"], {"en": "Storm"}, "sue",
        )
        sue = await rig.bearer("sue")
        assert (await rig.client.post("/api/emergency", json={"active": False}, headers=sue)).status == 200
    async for rig in start_rig(tmp_path):
        assert not rig.app[EMERGENCY_KEY].current().active
