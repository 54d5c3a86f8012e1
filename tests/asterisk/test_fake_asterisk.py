"""The fake Asterisk speaks like the real one: its bytes checked against the transcripts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.asterisk.fake_asterisk import FakeAsterisk
from tests.asterisk.transcripts import ami_server_frames

REAL_A = ami_server_frames("a-login-corestatus-error-logoff.txt")
REAL_F = ami_server_frames("f-actions-setvar-redirect-hangup-lists.txt")


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk(username="acd", secret="acdsecret", auth_fail_delay=0.2)
    await fake.start()
    yield fake
    await fake.close()


class Raw:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, *lines: str) -> None:
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()

    async def frame(self) -> list[str]:
        data = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        return data.decode().split("\r\n")[:-2]


async def connect(fake: FakeAsterisk) -> tuple[Raw, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", fake.port)
    banner = await asyncio.wait_for(reader.readline(), 5)
    return Raw(reader, writer), banner


def keys(frame: list[str]) -> list[str]:
    return [line.partition(": ")[0] for line in frame]


async def test_banner_errors_login_and_ping_match_the_transcript(fake: FakeAsterisk) -> None:
    raw, banner = await connect(fake)
    assert banner == b"Asterisk Call Manager/11.0.0\r\n"
    await raw.send("Action: CoreStatus", "ActionID: acd-1")
    assert await raw.frame() == REAL_A[1]  # Permission denied before login
    await raw.send("Action: Login", "ActionID: acd-2", "Username: acd", "Secret: acdsecret", "Events: off")
    assert await raw.frame() == REAL_A[2]
    await raw.send("Action: NoSuchAction", "ActionID: acd-4")
    assert await raw.frame() == REAL_A[4]
    await raw.send("Action: Ping")
    assert keys(await raw.frame()) == keys(REAL_A[6])
    await raw.send("Action: Logoff", "ActionID: acd-8")
    assert await raw.frame() == REAL_A[-1]
    assert await asyncio.wait_for(raw.reader.read(), 5) == b""  # closed by the server


async def test_bad_login_answers_late_then_closes(fake: FakeAsterisk) -> None:
    raw, _ = await connect(fake)
    started = time.monotonic()
    await raw.send("Action: Login", "ActionID: acd-1", "Username: acd", "Secret: WRONG")
    frame = await raw.frame()
    assert time.monotonic() - started >= 0.2
    assert frame == ["Response: Error", "ActionID: acd-1", "Message: Authentication failed"]
    assert await asyncio.wait_for(raw.reader.read(), 5) == b""


async def test_event_lists_use_the_real_framing_and_field_order(fake: FakeAsterisk) -> None:
    fake.devices.update({"PJSIP/1001": "UNAVAILABLE", "PJSIP/2001": "NOT_INUSE"})
    fake.new_channel()
    raw, _ = await connect(fake)
    await raw.send("Action: Login", "ActionID: acd-1", "Username: acd", "Secret: acdsecret", "Events: off")
    await raw.frame()
    await raw.send("Action: PJSIPShowEndpoints", "ActionID: acd-2")
    start, first, second, complete = [await raw.frame() for _ in range(4)]
    real = [f for f in REAL_F if "ActionID: acd-2" in f]
    assert start == real[0]
    assert keys(first) == keys(real[1]) and first[3] == "ObjectName: 1001" and first[-2] == "DeviceState: Unavailable"
    assert second[-2] == "DeviceState: Not in use"
    assert complete == ["Event: EndpointListComplete", "ActionID: acd-2", "EventList: Complete", "ListItems: 2"]
    await raw.send("Action: CoreShowChannels", "ActionID: acd-9")
    start, item, complete = [await raw.frame() for _ in range(3)]
    real = [f for f in REAL_F if "ActionID: acd-9" in f]
    assert start == real[0] and keys(item) == keys(real[1]) and keys(complete) == keys(real[-1])


REAL_B = ami_server_frames("b-originate-local-to-hangup.txt")


def real_b(event: str, response: str) -> list[str]:
    return next(f for f in REAL_B if f[0] == f"Event: {event}" and f"Response: {response}" in f)


async def test_async_originate_answers_like_the_transcript(fake: FakeAsterisk) -> None:
    raw, _ = await connect(fake)
    await raw.send("Action: Login", "ActionID: acd-1", "Username: acd", "Secret: acdsecret", "Events: on")
    await raw.frame()
    await raw.frame()  # FullyBooted
    await raw.send("Action: Originate", "ActionID: acd-2", "Channel: PJSIP/1001", "Context: hotline-callback",
                   "Exten: s", "Priority: 1", 'CallerID: "Callback" <555>', "Timeout: 15000", "Async: true",
                   "Variable: A=1", "Variable: B=2", "ChannelId: orig-b-1")
    queued = await raw.frame()
    assert queued == next(f for f in REAL_B if "Message: Originate successfully queued" in f)
    assert fake.channels["orig-b-1"].variables == {"A": "1", "B": "2"}
    assert (await raw.frame())[:2] == ["Event: DeviceStateChange", "Privilege: call,all"]  # ringing

    # Originating into a context, Asterisk reports Context/Exten where the transcript's
    # Application-form Originate has Application/Data; every other key as recorded.
    def as_context_form(frame: list[str]) -> list[str]:
        names = keys(frame)
        return [{"Application": "Context", "Data": "Exten"}.get(n, n) for n in names]

    fake.hangup("orig-b-1")  # before the answer: the Originate fails
    frames = [await raw.frame() for _ in range(3)]
    assert [f[0] for f in frames] == ["Event: OriginateResponse", "Event: Hangup", "Event: DeviceStateChange"]
    response = frames[0]
    assert keys(response) == as_context_form(real_b("OriginateResponse", "Failure"))
    assert "Uniqueid: <unknown>" in response and "ActionID: acd-2" in response
    assert "Channel: PJSIP/1001" in response  # the requested channel, as in the transcript

    await raw.send("Action: Originate", "ActionID: acd-3", "Channel: PJSIP/1001", "Context: hotline-callback",
                   "Exten: s", "Priority: 1", "Async: true", "ChannelId: orig-b-2")
    assert (await raw.frame())[2] == "Message: Originate successfully queued"
    await raw.frame()
    fake.answer_originate("orig-b-2")
    response = await raw.frame()
    assert keys(response) == as_context_form(real_b("OriginateResponse", "Success"))
    assert "Uniqueid: orig-b-2" in response and "Reason: 4" in response and "ActionID: acd-3" in response
