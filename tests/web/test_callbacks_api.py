"""GET /api/callbacks: held callback requests and callbacks in the queue, for supervisors."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from acd import held
from acd.callbacks import Request
from hotline.web.base.keys import ACD_KEY
from tests.web.harness import WebRig


@pytest.fixture
async def client(web_rig: WebRig) -> TestClient[Any, Any]:
    for login, role, agent in (("ada", "admin", ""), ("sue", "supervisor", ""), ("kim", "agent", "1001")):
        await web_rig.add_user(login, role, agent_id=agent)
    return web_rig.client


async def test_held_callbacks_in_placing_order_then_those_in_the_queue(
    client: TestClient[Any, Any], web_rig: WebRig,
) -> None:
    acd = client.server.app[ACD_KEY]
    now = acd.clock.now()
    late = Request("cb-late", "booking", "+821011112222", now - 60, now - 50, (now + 7200, now + 9000))
    soon = Request("cb-soon", "booking", "+821033334444", now - 30, now - 20, (now + 600, now + 2400))
    held.hold_callback(acd, late)
    held.hold_callback(acd, soon)
    held.merge_held(acd, "cb-soon", "cb-again", now - 10, None)
    acd.arrive("cb-now", "booking", caller="+821055556666", source="asterisk-callback")
    acd.arrive("plain", "booking", caller="+821077778888")  # an ordinary caller: not a callback

    supervisor = await (await client.get("/api/callbacks", headers=await web_rig.bearer("sue"))).json()
    assert (supervisor["held"], supervisor["in_queue"]) == (2, 1)
    rows = supervisor["callbacks"]
    assert [(r["call_id"], r["state"]) for r in rows] == [
        ("cb-soon", "held"), ("cb-late", "held"), ("cb-now", "queued")]
    assert rows[0]["due_at"] == pytest.approx(now + 600) and rows[0]["merged"] == 1
    assert rows[0]["slot"] == [pytest.approx(now + 600), pytest.approx(now + 2400)]
    assert rows[0]["number"] == "+82******4444"  # masked for a supervisor
    admin = await (await client.get("/api/callbacks", headers=await web_rig.bearer("ada"))).json()
    assert admin["callbacks"][0]["number"] == "+821033334444"
    assert (await client.get("/api/callbacks", headers=await web_rig.bearer("kim"))).status == 403
