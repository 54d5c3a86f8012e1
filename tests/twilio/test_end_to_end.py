"""End to end: a Twilio call speaks its way through the menu, waits, is connected to an agent,
ends; its recording is downloaded from a (local) media server. The case store (SQLite,
the real writer) then holds one call record with its IVR path and its recording."""

from __future__ import annotations

import hashlib
import io
import time
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from acd.clock import VirtualClock
from casestore import StoreSettings, open_store
from casestore.models import Recording
from speech.recognizer import VoskRecognizer
from twilio_gateway.recording import AiohttpFetcher

from .conftest import Harness
from .fakes import ACCOUNT, PUBLIC, TOKEN, call_sid
from .streaming import clip, stream_audio

Make = Callable[..., AbstractAsyncContextManager[Harness]]


def wav_bytes(seconds: float = 1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00\xff\xff" * int(4000 * seconds))
    return out.getvalue()


def form(sid: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, **extra}


async def media_server(audio: bytes, seen: list[tuple[str, str | None]]) -> TestServer:
    async def recording(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization")))
        auth = aiohttp.BasicAuth.decode(request.headers.get("Authorization", "Basic Og=="))
        if (auth.login, auth.password) != (ACCOUNT, TOKEN):
            return web.Response(status=401)
        return web.Response(body=audio, content_type="audio/x-wav")

    app = web.Application()
    app.router.add_get("/2010-04-01/Accounts/{account}/Recordings/{name}", recording)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_call_walks_menu_waits_talks_and_leaves_one_record(
    harness: Make, vosk: VoskRecognizer, tmp_path: Path
) -> None:
    audio = wav_bytes()
    seen: list[tuple[str, str | None]] = []
    media = await media_server(audio, seen)
    settings = StoreSettings(url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", data_dir=tmp_path / "data")
    sid = call_sid(0xE2E)
    try:
        async with open_store(settings, create=True) as store, aiohttp.ClientSession() as http:
            writer = store.writer(flush_interval=0.05)
            await writer.start()
            clock = VirtualClock(time.time())
            async with harness(
                recognizer=vosk, recordings=store.recordings, fetcher=AiohttpFetcher(http),
                writer=writer, clock=clock,
            ) as h:
                h.acd.subscribe(writer.on_event)
                came_in = clock.now()
                await h.poster.twiml("/twilio/voice", form(sid, From="+821012345678", To="+8215990000"))
                clock.advance(1)
                await stream_audio(h.session, h.base, sid, 1, clip("kw_sangdamwon_ko_150.ulaw"))
                clock.advance(3)
                hold = ET.fromstring(await h.poster.twiml(f"/twilio/resume?call={sid}&step=1", form(sid)))
                assert hold.find("Play") is not None
                assert h.acd.calls[sid].queue == "general"
                clock.advance(30)  # the next hold loop, before the queue's announce interval (60 s)
                music = ET.fromstring(await h.poster.twiml(f"/twilio/hold?call={sid}", form(sid)))
                assert music.find("Say") is None and music.find("Play") is not None
                clock.advance(30)
                again = ET.fromstring(await h.poster.twiml(f"/twilio/hold?call={sid}", form(sid)))
                assert "1번째" in (again.find("Say").text or "")  # type: ignore[union-attr]

                h.acd.login("1002")
                (update,) = await h.api.wait_for(1)
                identity = ET.fromstring(str(update.data["Twiml"])).find("Dial/Client/Identity")
                assert identity is not None and identity.text == "agent-1002"
                clock.advance(4)
                await h.poster.post(f"/twilio/agent?call={sid}",
                                    form(call_sid(0xE2F), ParentCallSid=sid, CallStatus="in-progress"))
                clock.advance(60)
                await h.poster.twiml(f"/twilio/dial?call={sid}", form(sid, DialCallStatus="completed"))
                recording_url = str(media.make_url(f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{'7' * 32}"))
                status, _ = await h.poster.post(
                    f"/twilio/recording?call={sid}",
                    form(sid, RecordingSid="RE" + "7" * 32, RecordingUrl=recording_url,
                         RecordingStatus="completed", RecordingDuration="1", RecordingChannels="2"),
                )
                assert status == 200
                await h.poster.post("/twilio/status", form(sid, CallStatus="completed"))
                await h.gateway.drain()
                assert h.gateway.recorded and h.gateway.recorded[0][0] == sid
            await writer.stop()

            call = await store.cases.get_call(sid)
            assert (call.source, call.queue, call.agent_id, call.outcome) == ("twilio", "general", "1002", "answered")
            assert call.caller == "+821012345678" and call.dialed == "+8215990000"
            assert call.wait_seconds is not None and call.wait_seconds >= 30
            assert call.talk_seconds == 60
            # opened when the call came in, before the IVR; the ACD's arrival is the same record
            assert call.started_at == came_in and call.queued_at is not None
            assert call.queued_at >= came_in + 1
            path = [(s.node, s.kind, s.input) for s in await store.cases.ivr_path(sid)]
            assert ("main", "speech", "상담원") in path
            assert [n for n, k, _ in path if k == "entered"] == ["welcome", "main", "agent"]
            async with store.engine.connect() as conn:
                rows = (await conn.execute(select(Recording).where(Recording.call_id == sid))).all()
            assert len(rows) == 1
            assert rows[0].sha256 == hashlib.sha256(audio).hexdigest() and rows[0].format == "wav"
            assert await store.recordings.read(rows[0].uri) == audio
            assert seen == [(f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{'7' * 32}.wav", seen[0][1])]
            assert await store.cases.count("calls") == 1
    finally:
        await media.close()


async def test_caller_hanging_up_in_the_menu_leaves_one_abandoned_record_with_its_path(
    harness: Make, tmp_path: Path
) -> None:
    settings = StoreSettings(url=f"sqlite+aiosqlite:///{tmp_path}/ivr.db", data_dir=tmp_path / "data")
    sid = call_sid(0xE31)
    async with open_store(settings, create=True) as store:
        writer = store.writer(flush_interval=0.05)
        await writer.start()
        clock = VirtualClock(time.time())
        async with harness(writer=writer, clock=clock) as h:
            h.acd.subscribe(writer.on_event)
            await h.poster.twiml("/twilio/voice", form(sid, From="+821012345678", To="+8215990000"))
            task = h.gateway.calls[sid].task
            assert task is not None
            clock.advance(2)
            await h.poster.post("/twilio/status", form(sid, CallStatus="completed"))
            await task
            # a retried status callback changes nothing
            await h.poster.post("/twilio/status", form(sid, CallStatus="completed"))
        await writer.stop()

        assert await store.cases.count("calls") == 1
        call = await store.cases.get_call(sid)
        assert (call.source, call.caller, call.dialed) == ("twilio", "+821012345678", "+8215990000")
        assert call.outcome == "abandoned" and call.queue is None and call.case_id is None
        assert call.started_at is not None and call.ended_at is not None
        assert call.ended_at - call.started_at == 2
        path = [(s.node, s.kind, s.input) for s in await store.cases.ivr_path(sid)]
        assert path == [
            ("welcome", "entered", None),
            ("main", "entered", None),
            ("main", "outcome", "abandoned:caller_hangup"),
        ]


async def test_recording_on_a_host_not_allowed_is_not_fetched(harness: Make, tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []
    media = await media_server(b"RIFF", seen)
    try:
        settings = StoreSettings(url=f"sqlite+aiosqlite:///{tmp_path}/x.db", data_dir=tmp_path / "data")
        async with (
            open_store(settings, create=True) as store,
            aiohttp.ClientSession() as http,
            harness(recordings=store.recordings, fetcher=AiohttpFetcher(http)) as h,
        ):
            sid = call_sid(0xE30)
            evil = f"{PUBLIC}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1"  # not on recording_hosts
            await h.poster.post(f"/twilio/recording?call={sid}",
                                form(sid, RecordingUrl=evil, RecordingStatus="completed"))
            unknown_path = str(media.make_url("/other/Recordings/RE2"))
            await h.poster.post(f"/twilio/recording?call={sid}",
                                form(sid, RecordingUrl=unknown_path, RecordingStatus="completed"))
            await h.gateway.drain()
            assert not h.gateway.recorded
            assert h.steps.recordings == []
        assert seen == []  # the first was refused before any request, the second 404s
    finally:
        await media.close()
