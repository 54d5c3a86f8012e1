"""The OpenAPI document: every /api route is described, and a tour through every endpoint
(and a few refusals) gets answers that validate against the schema the document gives for
that operation and status."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
from aiohttp import ClientResponse

from hotline.service_process.wiring import SERVICE_KEY
from hotline.web.base.keys import WEB_KEY
from hotline.web.calls.routes import RECORDING_CONTROLS_KEY
from tests.web.harness import PASSWORD, WebRig

MENU = Path(__file__).resolve().parents[2] / "config" / "menus" / "airline.yaml"


class Recorder:
    """Fake recording control of the `simulation` call source."""

    async def pause_recording(self, call_id: str) -> None:
        pass

    async def resume_recording(self, call_id: str) -> None:
        pass


def _api_routes(rig: WebRig) -> set[tuple[str, str]]:
    routes = set()
    for route in rig.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method != "HEAD" and route.method != "*":
            routes.add((route.method.lower(), path))
    return routes


class Tour:
    def __init__(self, rig: WebRig, document: dict[str, Any]) -> None:
        self.rig = rig
        self.document = document
        self.seen: set[tuple[str, str]] = set()

    async def check(self, response: ClientResponse) -> Any:
        method = response.request_info.method.lower()
        template = self.template(method, response.request_info.url.path)
        operation = self.document["paths"][template][method]
        responses = operation["responses"]
        status = str(response.status)
        assert status in responses, f"{method} {template} answered undocumented {status}"
        content = responses[status]["content"]
        streamed = [m for m in content if m == "text/event-stream" or m.startswith("audio/")]
        if streamed:
            assert response.content_type == streamed[0]
            self.seen.add((method, template))
            return None
        body = await response.json()
        schema = {"$ref": content["application/json"]["schema"]["$ref"], "components": self.document["components"]}
        jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)
        if response.status < 400:
            self.seen.add((method, template))
        return body

    def template(self, method: str, path: str) -> str:
        for template, ops in self.document["paths"].items():
            pattern = re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template))
            if method in ops and re.fullmatch(pattern, path):
                return str(template)
        raise AssertionError(f"{method} {path} is not in the document")


async def test_every_api_route_is_described(web_rig: WebRig) -> None:
    document = await (await web_rig.client.get("/api/openapi.json")).json()
    described = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert _api_routes(web_rig) == described
    for ops in document["paths"].values():
        for op in ops.values():
            assert op["summary"] and "x-roles" in op and op["responses"]
    jsonschema.Draft202012Validator.check_schema({"components": document["components"]})


async def test_every_endpoint_answers_what_its_schema_says(web_rig: WebRig) -> None:
    c = web_rig.client
    document = await (await c.get("/api/openapi.json")).json()
    tour = Tour(web_rig, document)
    await tour.check(await c.get("/api/openapi.json"))

    # first run: the setup token makes the first admin (session cookie from here on)
    token = web_rig.links[0].split("token=")[1]
    csrf = {"X-CSRF-Token": await web_rig.csrf()}
    body = await tour.check(await c.post(
        "/api/setup", json={"token": token, "login": "ada", "name": "Ada", "password": PASSWORD}, headers=csrf,
    ))
    session = {"X-CSRF-Token": body["csrf_token"]}
    await tour.check(await c.get("/api/session"))
    await tour.check(await c.post("/api/setup", json={"token": token, "login": "x", "name": "x", "password": PASSWORD}, headers=session))
    admin = await web_rig.bearer("ada")

    await tour.check(await c.post("/api/users", json={"login": "sue", "name": "Sue", "role": "supervisor", "password": PASSWORD}, headers=admin))
    await tour.check(await c.post("/api/users", json={"login": "kim", "name": "Kim", "role": "agent", "agent_id": "1001", "password": PASSWORD}, headers=admin))
    await tour.check(await c.post("/api/users", json={"login": "kim", "name": "Kim", "role": "agent", "password": "short"}, headers=admin))
    await tour.check(await c.get("/api/users", headers=admin))
    await tour.check(await c.patch("/api/users/sue", json={"name": "Sue Park", "language": "ko"}, headers=admin))
    await tour.check(await c.post("/api/users/sue/password", json={"password": PASSWORD + "!"}, headers=admin))
    created = await tour.check(await c.post("/api/tokens", json={"name": "wallboard", "days": 7}, headers=admin))
    await tour.check(await c.get("/api/tokens", headers=admin))
    await tour.check(await c.delete(f"/api/tokens/{created['info']['id']}", headers=admin))
    await tour.check(await c.get("/api/audit?limit=5", headers=admin))
    agent = await web_rig.bearer("kim")
    await tour.check(await c.get("/api/audit", headers=agent))

    await tour.check(await c.get("/api/agents", headers=admin))
    await tour.check(await c.get("/api/agents/1001", headers=agent))
    await tour.check(await c.post("/api/agents/1001/state", json={"action": "login"}, headers=agent))
    await tour.check(await c.post("/api/agents/1001/state", json={"action": "login"}, headers=agent))  # 409
    web_rig.acd.arrive("call-1", "booking", caller="+821012345678", source="simulation")
    web_rig.acd.answer("call-1")
    await tour.check(await c.post("/api/agents/1001/disposition", json={"code": "rebooked"}, headers=agent))
    web_rig.app[RECORDING_CONTROLS_KEY]["simulation"] = Recorder()
    await tour.check(await c.post("/api/calls/call-1/recording", json={"action": "pause"}, headers=agent))
    await tour.check(await c.get("/api/desktop", headers=agent))
    await tour.check(await c.post("/api/desktop/state", json={"action": "logout_when_free"}, headers=agent))
    await tour.check(await c.post("/api/desktop/wrapup", json={"disposition": "nonsense"}, headers=agent))
    await tour.check(await c.post("/api/desktop/wrapup", json={"disposition": "resolved"}, headers=agent))
    opened = await tour.check(await c.post("/api/cases", json={"category": "refund", "priority": "major"}, headers=agent))
    number = opened["number"]
    await tour.check(await c.get("/api/cases?overdue=false&priority=major&status=open,in_progress", headers=admin))
    await tour.check(await c.get(f"/api/cases/{number}", headers=agent))
    await tour.check(await c.patch(f"/api/cases/{number}", json={"priority": "urgent"}, headers=agent))
    await tour.check(await c.post(f"/api/cases/{number}/assign", json={"agent_id": "1002"}, headers=admin))
    await tour.check(await c.post(f"/api/cases/{number}/notes", json={"body": "called back"}, headers=admin))
    await tour.check(await c.post(f"/api/cases/{number}/status", json={"status": "closed"}, headers=admin))  # 409
    await tour.check(await c.post(f"/api/cases/{number}/status", json={"status": "resolved", "resolution_code": "refunded"}, headers=admin))
    await tour.check(await c.get("/api/cases/attention", headers=admin))
    recording = await web_rig.add_recording("call-1", b"RIFF" + bytes(60))
    await tour.check(await c.get("/api/calls?queue=booking", headers=admin))
    await tour.check(await c.get("/api/calls/call-1", headers=admin))
    audio = await c.get(f"/api/recordings/{recording}/audio", headers=admin)
    await tour.check(audio)
    assert await audio.read() == b"RIFF" + bytes(60)
    await tour.check(await c.get("/api/live", headers=admin))
    await tour.check(await c.get("/api/callbacks", headers=admin))
    await tour.check(await c.get("/api/emergency", headers=agent))
    await tour.check(await c.post("/api/emergency", json={"active": True, "announcement": {"en": "Storm"}}, headers=admin))
    await tour.check(await c.post("/api/emergency", json={"active": True, "scope": ["nowhere"]}, headers=admin))  # 400

    web_rig.acd.arrive("call-2", "refund", source="simulation")
    await tour.check(await c.get("/api/wallboard", headers=admin))
    await tour.check(await c.get("/api/wallboard/alerts", headers=admin))
    await tour.check(await c.post("/api/wallboard/calls/call-2/priority", json={"priority": 3}, headers=admin))
    await tour.check(await c.post("/api/wallboard/calls/call-2/move", json={"queue": "general"}, headers=admin))
    await tour.check(await c.post("/api/wallboard/calls/call-1/move", json={"queue": "general"}, headers=admin))  # 409
    await tour.check(await c.post("/api/wallboard/agents/1001/force", json={"action": "pause"}, headers=admin))
    await tour.check(await c.post("/api/wallboard/agents/nobody/force", json={"action": "logout"}, headers=admin))  # 404

    # transfers, conferences, supervisors (hotline/web/telephony)
    for agent_id in ("1002", "1005"):
        if web_rig.acd.agent(agent_id).state.value == "logged_out":
            web_rig.acd.login(agent_id)
    web_rig.acd.arrive("call-3", "complaint" if "complaint" in web_rig.acd.queues else "general", source="simulation")
    web_rig.acd.answer("call-3")
    owner = web_rig.acd.call("call-3").agent_id
    for acd_agent in web_rig.acd.agents.values():
        if acd_agent.state.value == "logged_out":
            web_rig.acd.login(acd_agent.id)
    other = next(a.id for a in web_rig.acd.agents.values() if a.state.value == "available" and a.id != owner)
    await tour.check(await c.get("/api/calls/call-3/parties", headers=admin))
    await tour.check(await c.post("/api/calls/call-3/monitor", json={"mode": "whisper"}, headers=admin))
    await tour.check(await c.post("/api/calls/call-3/monitor/stop", json={}, headers=admin))
    await tour.check(await c.post("/api/calls/call-3/transfer", json={"mode": "attended", "to": "agent", "target": other}, headers=admin))
    web_rig.acd.party_answered("call-3", other)
    await tour.check(await c.post("/api/calls/call-3/consult", json={"action": "conference"}, headers=admin))
    await tour.check(await c.post("/api/calls/call-3/leave", json={}, headers=admin))
    await tour.check(await c.post("/api/calls/call-3/transfer", json={"mode": "conference", "to": "number", "target": "+82212345678"}, headers=admin))
    await tour.check(await c.post("/api/calls/call-3/parties/remove", json={"party": "tel:+82212345678"}, headers=admin))
    await tour.check(await c.post("/api/calls/call-3/consult", json={"action": "complete"}, headers=admin))  # 409
    await tour.check(await c.post("/api/calls/call-3/transfer", json={"mode": "blind", "to": "queue", "target": "general"}, headers=admin))

    await tour.check(await c.get("/api/menus", headers=admin))
    changed = MENU.read_text(encoding="utf-8").replace("Thank you for calling SkyRail Air.", "Welcome.")
    await tour.check(await c.post("/api/menus", data=changed.encode(), headers=admin))
    await tour.check(await c.post("/api/menus", data=b"menu: [", headers=admin))  # 422
    await tour.check(await c.post("/api/menus/skyrail-main/rollback", headers=admin))
    await tour.check(await c.post("/api/menus/skyrail-main/activate", json={"version": 2}, headers=admin))
    await tour.check(await c.post("/api/menus/reload", headers=admin))
    # the IVR editor
    await tour.check(await c.post("/api/menus/draft", data=changed.encode(), headers=admin))
    await tour.check(await c.post("/api/menus/draft", data=b"menu: [", headers=admin))
    await tour.check(await c.get("/api/menus/skyrail-main/versions", headers=admin))
    await tour.check(await c.get("/api/menus/skyrail-main/versions/1", headers=admin))
    await tour.check(await c.get("/api/menus/skyrail-main/versions/99", headers=admin))  # 404
    await tour.check(await c.get("/api/menus/skyrail-main/diff?from=1&to=2", headers=admin))
    await tour.check(await c.post("/api/menus/try", json={
        "text": changed, "actions": [{"kind": "dtmf", "value": "2"}, {"kind": "say", "value": "agent"}],
        "at": "2026-12-01T10:00", "timezone": "Asia/Seoul"}, headers=admin))
    await tour.check(await c.post("/api/menus/try", json={"text": changed, "pause": True}, headers=admin))
    await tour.check(await c.post("/api/menus/try", json={"text": "menu: ["}, headers=admin))  # 422

    # the service process (docs/service.md)
    await tour.check(await c.post("/api/teams", json={"name": "complaints", "title": "Complaints"}, headers=admin))
    await tour.check(await c.post("/api/teams", json={"name": "complaints", "title": "Again"}, headers=admin))  # 400
    await tour.check(await c.post("/api/teams/complaints/members/kim", json={"skills": ["complaints"]}, headers=admin))
    await tour.check(await c.post("/api/teams/complaints/members/sue", json={"lead": True}, headers=admin))
    await tour.check(await c.get("/api/teams", headers=admin))
    case = await web_rig.store.cases.open_case(category="complaint", priority="general")
    await tour.check(await c.post(f"/api/workorders/{case.number}/route", headers=admin))
    await tour.check(await c.post(f"/api/workorders/{case.number}/reassign", json={"login": "sue"}, headers=admin))
    await tour.check(await c.post(f"/api/workorders/{case.number}/reassign", json={"login": "kim"}, headers=admin))
    await tour.check(await c.post(f"/api/workorders/{case.number}/status", json={"status": "resolved"}, headers=agent))
    await tour.check(await c.get(f"/api/workorders/{case.number}", headers=agent))
    await tour.check(await c.post("/api/message-templates", json={
        "event": "resolved", "channel": "sms", "language": "en", "body": "Done: $case $link"}, headers=admin))
    await tour.check(await c.post("/api/answers", json={
        "key": "refund-window", "title": "Refunds", "body": "Up to 24 hours before departure.", "language": "en"},
        headers=admin))
    await tour.check(await c.get("/api/answers?q=refund&language=en&call_id=call-1", headers=agent))
    await tour.check(await c.get("/api/answers?language=english", headers=agent))  # 400
    await tour.check(await c.get("/api/message-templates", headers=admin))
    await tour.check(await c.get("/api/answers/refund-window/versions", headers=admin))
    # queues and agents edited live (hotline/web/acd_admin)
    await tour.check(await c.get("/api/admin/queues", headers=admin))
    await tour.check(await c.get("/api/admin/agents", headers=admin))
    await tour.check(await c.post("/api/admin/queues", json={"item": {"name": "claims", "skills": {"refund": 2}}},
                                  headers=admin))
    await tour.check(await c.post("/api/admin/queues", json={"item": {"name": "claims", "policy": "x"}},
                                  headers=admin))  # 422
    await tour.check(await c.post("/api/admin/agents", json={"item": {"id": "1004", "skills": {"claims": 4}}},
                                  headers=admin))
    await tour.check(await c.get("/api/admin/queues/claims/versions", headers=admin))
    await tour.check(await c.get("/api/admin/agents/1004/versions", headers=admin))
    await tour.check(await c.get("/api/admin/queues/booking/diff?a=1&b=1", headers=admin))
    await tour.check(await c.get("/api/admin/agents/1004/diff?a=1&b=2", headers=admin))
    await tour.check(await c.post("/api/admin/agents/1004/rollback", json={"version": 1}, headers=admin))
    await tour.check(await c.post("/api/admin/queues/claims/rollback", json={"version": 1}, headers=admin))
    await tour.check(await c.post("/api/admin/agents/1004/disabled", json={"disabled": True}, headers=admin))
    await web_rig.app[SERVICE_KEY].outreach.add_follow_up(case.id, web_rig.clock.now())
    tasks = await tour.check(await c.get("/api/follow-ups", headers=agent))
    task = tasks["tasks"][0]["id"]
    await tour.check(await c.post(f"/api/follow-ups/{task}/take", headers=agent))
    await tour.check(await c.post(f"/api/follow-ups/{task}/outcome", json={"outcome": "reached"}, headers=agent))

    async with c.get("/api/events", headers=agent) as stream:
        await tour.check(stream)
    await tour.check(await c.delete("/api/session", headers=session))
    await tour.check(await c.post("/api/session", json={"login": "ada", "password": "wrong"}, headers=csrf))
    await tour.check(await c.post("/api/session", json={"login": "ada", "password": PASSWORD}, headers=csrf))

    endpoints = {(ep.method.lower(), ep.path) for ep in web_rig.app[WEB_KEY].api.endpoints}
    assert endpoints - tour.seen == set(), "endpoints the tour did not reach"
