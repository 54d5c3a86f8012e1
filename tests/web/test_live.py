"""Live events: one publisher, per-connection bounded queues (a slow browser is dropped, the
ACD never waits), filtered per role and agent; the SSE stream over HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from acd.events import AgentStateChanged, CallAssigned
from casestore.accounts import Actor
from hotline.roles import Principal, Role
from hotline.web.base.keys import WEB_KEY
from hotline.web.base.live import LiveEvent, Publisher
from tests.web.harness import WebRig, sample_config, start_rig

SUPERVISOR = Principal(Role.SUPERVISOR, login="sue")
KIM = Principal(Role.AGENT, agent_id="1001", login="kim")
LEE = Principal(Role.AGENT, agent_id="1002", login="lee")


def _drain(queue: asyncio.Queue[LiveEvent]) -> list[str]:
    kinds = []
    while not queue.empty():
        event = queue.get_nowait()
        kinds.append(f"{event.kind}:{event.data.get('agent_id', '')}")
    return kinds


async def test_events_reach_staff_and_the_agent_they_concern() -> None:
    publisher = Publisher(queue_size=8)
    sue, kim, lee = (publisher.connect(p) for p in (SUPERVISOR, KIM, LEE))
    publisher.on_acd_event(AgentStateChanged(at=1.0, agent_id="1001", old="logged_out", new="available"))
    publisher.on_acd_event(CallAssigned(at=2.0, call_id="c1", agent_id="1002", queue="booking", priority=0, wait=3.0))
    publisher.case_changed("HL-2026-000001", "open", assigned_agent="1001")
    publisher.publish(LiveEvent("wallboard_alert", {"queue": "booking"}))  # staff only
    assert _drain(sue.queue) == ["agent_state:1001", "call_offered:1002", "case_changed:", "wallboard_alert:"]
    assert _drain(kim.queue) == ["agent_state:1001", "case_changed:"]
    assert _drain(lee.queue) == ["call_offered:1002"]


async def test_a_slow_connection_is_dropped_and_never_blocks_publishing() -> None:
    publisher = Publisher(queue_size=4)
    slow = publisher.connect(SUPERVISOR)
    fast = publisher.connect(Principal(Role.ADMIN, login="ada"))
    for n in range(10):
        publisher.publish(LiveEvent("agent_state", {"agent_id": str(n)}))
        _drain(fast.queue)  # this browser keeps up
    assert slow.dropped and slow.closed.is_set()
    assert not fast.dropped
    assert publisher.connections == 1
    assert publisher.dropped == 1


async def _read_events(stream: Any, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kind = ""
    while len(events) < count:
        line = (await asyncio.wait_for(stream.content.readline(), timeout=10)).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append({"event": kind, **json.loads(line[6:])})
    return events


async def test_the_event_stream_over_http_is_filtered_per_agent(web_rig: WebRig) -> None:
    await web_rig.add_user("kim", "agent", agent_id="1001")
    await web_rig.add_user("sue", "supervisor")
    kim, sue = await web_rig.bearer("kim"), await web_rig.bearer("sue")
    async with web_rig.client.get("/api/events", headers=kim) as kim_stream, web_rig.client.get(
        "/api/events", headers=sue
    ) as sue_stream:
        assert kim_stream.content_type == "text/event-stream"
        assert (await kim_stream.content.readline()).startswith(b"retry:")
        await sue_stream.content.readline()  # both are subscribed once the first line came
        assert web_rig.app[WEB_KEY].live.connections == 2
        web_rig.acd.login("1002")  # not Kim's: only the supervisor hears it
        web_rig.acd.login("1001")
        sue_events = await _read_events(sue_stream, 2)
        kim_events = await _read_events(kim_stream, 1)
    assert [(e["event"], e["agent_id"]) for e in sue_events] == [("agent_state", "1002"), ("agent_state", "1001")]
    assert [(e["event"], e["agent_id"], e["new"]) for e in kim_events] == [("agent_state", "1001", "available")]
    assert "caller" not in json.dumps(sue_events)  # events carry ids and states only



async def test_a_stream_ends_when_its_token_is_revoked(tmp_path: Path) -> None:
    async for rig in start_rig(tmp_path, sample_config(web={"live_heartbeat": 0.2})):
        await rig.add_user("kim", "agent", agent_id="1001")
        kim = await rig.store.accounts.user("kim")
        assert kim is not None
        created = await rig.app[WEB_KEY].accounts.create_token(Actor("test"), kim, "stream", 1)
        headers = {"Authorization": f"Bearer {created.secret}"}
        async with rig.client.get("/api/events", headers=headers) as stream:
            await stream.content.readline()
            await rig.store.accounts.revoke_token(Actor("test"), created.view.public_id)
            rest = await asyncio.wait_for(stream.content.read(), timeout=10)  # the stream ends
        assert b"event: signed_out" in rest
        assert rig.app[WEB_KEY].live.connections == 0
