"""The server as `hotline serve` builds it: store, menus API, and calls reaching the case store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from casestore.errors import SchemaError
from casestore.store import open_store
from hotline.config import ConfigError, load_config, parse_config
from hotline.web.base.keys import ACD_KEY
from hotline.wiring import STORE_KEY, build_app
from tests.web.harness import WebRig

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "hotline.yaml"
MENU = ROOT / "config" / "menus" / "airline.yaml"
ADMIN: dict[str, str] = {}
SUPERVISOR: dict[str, str] = {}
AGENT_1001: dict[str, str] = {}

Client = TestClient[Any, Any]


@pytest.fixture
async def store_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    return url


@pytest.fixture
async def client(web_rig: WebRig) -> Client:
    for login, role, agent, headers in (
        ("ada", "admin", None, ADMIN), ("sue", "supervisor", None, SUPERVISOR),
        ("kim", "agent", "1001", AGENT_1001),
    ):
        await web_rig.add_user(login, role, agent_id=agent)
        headers.clear()
        headers.update(await web_rig.bearer(login))
    return web_rig.client


async def test_calls_through_the_server_reach_the_case_store(client: Client) -> None:
    app = client.server.app
    acd = app[ACD_KEY]
    acd.login("1001")
    acd.arrive("call-1", "booking", caller="+821012345678", source="asterisk")
    acd.answer("call-1")
    acd.end("call-1", disposition="rebooked")
    acd.arrive("call-2", "refund", caller="+821099990000", source="twilio")
    acd.abandon("call-2")
    store = app[STORE_KEY]
    writer = store.writer_instance
    assert writer is not None
    await writer.drain()
    answered = await store.cases.get_call("call-1")
    abandoned = await store.cases.get_call("call-2")
    assert (answered.outcome, answered.agent_id, answered.queue) == ("answered", "1001", "booking")
    assert abandoned.outcome == "abandoned"
    pop = await store.cases.screen_pop("+821012345678")
    assert pop is not None
    assert [c.category for c in pop.recent_cases] == ["ticketing"]


async def test_server_refuses_a_database_without_schema(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()  # a database without a schema (no file: StoreUnavailable)
    app = build_app(
        load_config(CONFIG), store_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        speech=False, asterisk=False,
    )
    with pytest.raises(SchemaError):
        async with TestClient(TestServer(app)):
            pass


async def test_menus_api_lists_versions_and_rejects_broken_menus(client: Client) -> None:
    listing = await (await client.get("/api/menus", headers=SUPERVISOR)).json()
    main = next(m for m in listing["menus"] if m["name"] == "skyrail-main")
    assert main["active_version"] == 1

    broken = MENU.read_text(encoding="utf-8").replace("next: disruption", "next: nowhere", 1)
    response = await client.post("/api/menus", data=broken.encode(), headers=ADMIN)
    assert response.status == 422
    body = await response.json()
    assert body["ok"] is False
    assert any("nowhere" in issue["message"] and issue["line"] for issue in body["issues"])
    listing = await (await client.get("/api/menus", headers=ADMIN)).json()
    main = next(m for m in listing["menus"] if m["name"] == "skyrail-main")
    assert main["active_version"] == 1  # the running menu stays

    changed = MENU.read_text(encoding="utf-8").replace(
        "Thank you for calling SkyRail Air.", "Welcome to SkyRail Air."
    )
    response = await client.post("/api/menus", data=changed.encode(), headers=ADMIN)
    assert response.status == 200
    assert (await response.json())["version"] == 2
    response = await client.post("/api/menus/skyrail-main/rollback", headers=ADMIN)
    main = next(m for m in (await response.json())["menus"] if m["name"] == "skyrail-main")
    assert main["active_version"] == 1
    response = await client.post(
        "/api/menus/skyrail-main/activate", json={"version": 2}, headers=ADMIN
    )
    main = next(m for m in (await response.json())["menus"] if m["name"] == "skyrail-main")
    assert main["active_version"] == 2
    response = await client.post(
        "/api/menus/skyrail-main/activate", json={"version": 99}, headers=ADMIN
    )
    assert response.status == 404
    assert (await client.post("/api/menus", data=changed.encode(), headers=SUPERVISOR)).status == 403


async def test_menu_upload_limits_and_encoding(client: Client) -> None:
    response = await client.post("/api/menus", data=b"\xff\xfe garbage", headers=ADMIN)
    assert response.status == 400
    response = await client.post("/api/menus", data=b"a: [" + b"x" * 600_000, headers=ADMIN)
    assert response.status == 413
    response = await client.post("/api/menus?check_only=true", data=b"menu: [", headers=ADMIN)
    assert response.status == 422


def test_broken_menu_file_refuses_start(tmp_path: Path) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text(MENU.read_text(encoding="utf-8").replace("next: disruption", "next: nowhere", 1))
    raw = {"queues": [{"name": q} for q in ("general", "booking", "refund", "baggage", "complaint", "emergency")],
           "ivr": {"menus": [str(menu)]}}
    with pytest.raises(ConfigError, match="nowhere"):
        build_app(parse_config(raw, tmp_path / "hotline.yaml"), speech=False, asterisk=False)


async def test_asterisk_adapter_starts_and_stops_without_an_asterisk(store_url: str) -> None:
    """Embedded defaults: no Asterisk is running; AMI retries in the background, serving goes on."""
    config = load_config(CONFIG)
    sections = dict(config.sections)
    asterisk = dict(sections["asterisk"])
    asterisk["ami"] = {**asterisk["ami"], "port": _free_port(), "connect_timeout": 0.2}
    asterisk["fastagi"] = {"host": "127.0.0.1", "port": _free_port()}
    sections["asterisk"] = asterisk
    from dataclasses import replace

    app = build_app(replace(config, sections=sections), store_url=store_url, speech=False)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200  # alive
        for path in ("/readyz", "/health"):  # not ready: AMI is refused, and it says so
            response = await client.get(path)
            body = await response.json()
            assert (response.status, body["status"]) == (503, "not_ready")
            assert body["checks"]["asterisk"]["ok"] is False
            assert "AMI not logged in" in body["checks"]["asterisk"]["reason"]
            assert body["checks"]["store"] == {"ok": True}
        _, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", asterisk["fastagi"]["port"]), 5
        )
        writer.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeRecordingControl:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    async def pause_recording(self, call_id: str) -> None:
        if self.fail:
            raise RuntimeError("MixMonitorMute failed: no such channel")
        self.calls.append(("pause", call_id))

    async def resume_recording(self, call_id: str) -> None:
        self.calls.append(("resume", call_id))


async def test_agent_pauses_and_resumes_the_recording_of_their_call(client: Client) -> None:
    from hotline.web.calls.routes import RECORDING_CONTROLS_KEY

    app = client.server.app
    control = FakeRecordingControl()
    app[RECORDING_CONTROLS_KEY]["asterisk"] = control
    acd = app[ACD_KEY]
    acd.login("1001")
    acd.arrive("call-9", "booking", caller="+821012345678", source="asterisk")
    acd.answer("call-9")
    agent = AGENT_1001
    url = "/api/calls/call-9/recording"
    assert (await client.post(url, json={"action": "pause"}, headers=agent)).status == 200
    assert (await client.post(url, json={"action": "resume"}, headers=agent)).status == 200
    assert control.calls == [("pause", "call-9"), ("resume", "call-9")]
    assert (await client.post(url, json={"action": "stop"}, headers=agent)).status == 400
    assert (await client.post("/api/calls/nope/recording", json={"action": "pause"}, headers=agent)).status == 404

    acd.arrive("call-10", "refund", caller="+821000001111", source="simulation")
    response = await client.post("/api/calls/call-10/recording", json={"action": "pause"}, headers=ADMIN)
    assert response.status == 409
    # an agent cannot touch a call that is not theirs
    response = await client.post("/api/calls/call-10/recording", json={"action": "pause"}, headers=agent)
    assert response.status == 403

    app[RECORDING_CONTROLS_KEY]["asterisk"] = FakeRecordingControl(fail=True)
    response = await client.post(url, json={"action": "pause"}, headers=agent)
    assert response.status == 502
    assert "no such channel" in (await response.json())["message"]
