"""Fuzzing the Twilio routes of the server `hotline serve` builds, with VALID signatures (so
the inputs get past authentication into the handlers, the gateway and the IVR): never a 5xx,
never a traceback in the log, and the server keeps answering `/healthz` and real calls."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from yarl import URL

from casestore.store import open_store
from hotline.config import load_config
from hotline.wiring import build_app
from twilio_gateway.conference_routes import CONFERENCE_WEBHOOKS
from twilio_gateway.routes import WEBHOOKS

from .fakes import ACCOUNT, FakeTwilioApi, call_sid

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fuzz-auth-token"
PUBLIC = "https://hotline.example.com"
SIDS = [call_sid(n) for n in range(1, 6)]
STATUSES = ["ringing", "in-progress", "answered", "completed", "busy", "no-answer", "failed",
            "canceled", "queued"]

Client = TestClient[object, object]

# Values as a hostile or broken peer might send them: control characters, non-ASCII digits,
# long runs, numbers that overflow, and the values that matter to the handlers.
nasty = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789*#²١\n\r\x00 +-.e", max_size=12),
    st.sampled_from(["", "nan", "inf", "-1", "1e999", "9" * 30, "²", "0" * 12, "%ff", "\n"]),
)
sid_like = st.one_of(st.sampled_from(SIDS), st.sampled_from(SIDS), nasty)
steps = st.one_of(st.sampled_from(["1", "2", "0", "²", "١", "5²", "", "-1", "9" * 12, "1 "]), nasty)
form_values = {
    "CallSid": sid_like, "AccountSid": st.just(ACCOUNT), "From": nasty, "To": nasty,
    "Digits": st.one_of(st.sampled_from(["1", "2", "0", "#", "12"]), nasty),
    "SpeechResult": nasty, "Confidence": nasty, "CallStatus": st.one_of(st.sampled_from(STATUSES), nasty),
    "DialCallStatus": st.one_of(st.sampled_from(STATUSES), nasty),
    "RecordingStatus": st.one_of(st.just("completed"), nasty),
    "RecordingUrl": st.one_of(st.just("https://api.twilio.com/2010-04-01/Recordings/RE1"), nasty),
    "ConferenceSid": st.one_of(st.just("CF" + "ab" * 16), nasty),
    "StatusCallbackEvent": st.one_of(st.sampled_from(["conference-start", "conference-end", "participant-join",
                                                      "participant-leave"]), nasty),
}

@st.composite
def webhook_inputs(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str]]:
    """(query, form); mostly about one call (the signed `call` parameter and CallSid agree),
    so the inputs get past the handlers' first checks."""
    sid = draw(sid_like)
    form = draw(st.fixed_dictionaries({}, optional=form_values))
    form.update(draw(st.dictionaries(st.text(max_size=10), nasty, max_size=3)))
    query = draw(st.fixed_dictionaries({}, optional={"agent": st.one_of(st.just("1001"), nasty),
                                                     "leg": st.one_of(st.just("1"), nasty)}))
    if draw(st.integers(0, 4)):
        query["step"] = draw(steps)
    if draw(st.integers(0, 9)):  # 9 times in 10: both name the same call
        form["CallSid"] = query["call"] = sid
    return query, form



@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    config = load_config(ROOT / "config" / "hotline.yaml")
    twilio = {**config.sections["twilio"], "enabled": True, "auth_token": TOKEN,
              "public_url": PUBLIC, "response_timeout": 0.05, "idle_timeout": 5,
              "recording_hosts": ["127.0.0.1"]}
    config = replace(config, sections={**config.sections, "twilio": twilio})
    app = build_app(config, store_url=url, twilio_http_client=FakeTwilioApi(), speech=False,
                    asterisk=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def post(client: Client, name: str, query: dict[str, str], form: dict[str, str]) -> tuple[int, str]:
    path_qs = f"/twilio/{name}" + (f"?{urlencode(query)}" if query else "")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path_qs, form)
    url = URL(str(client.make_url("/")).rstrip("/") + path_qs, encoded=True)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    async with client.session.post(url, data=urlencode(form).encode(), headers=headers) as resp:
        return resp.status, await resp.text()


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.exc_info or r.name == "aiohttp.server" or r.levelno >= logging.CRITICAL]


class StreamsDone(logging.Handler):
    """Set when aiohttp logs the access line of a Media Stream: its handler has returned (or
    failed, logged before), so the log can be checked for that stream."""

    def __init__(self) -> None:
        super().__init__()
        self.done = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "GET /twilio/stream" in record.getMessage():
            self.done.set()


@pytest.fixture
def streams_done() -> Iterator[StreamsDone]:
    handler = StreamsDone()
    access = logging.getLogger("aiohttp.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    yield handler
    access.removeHandler(handler)
    access.setLevel(level)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(FUZZ, max_examples=300)
@given(name=st.sampled_from(sorted({**WEBHOOKS, **CONFERENCE_WEBHOOKS})), inputs=webhook_inputs())
async def test_signed_webhooks_never_fail(
    client: Client, caplog: pytest.LogCaptureFixture, name: str,
    inputs: tuple[dict[str, str], dict[str, str]],
) -> None:
    caplog.clear()
    query, form = inputs
    status, body = await post(client, name, query, form)
    assert status < 500, (status, body)
    assert "Traceback" not in body
    assert not tracebacks(caplog)
    assert (await client.get("/healthz")).status == 200


stream_messages = st.lists(
    st.one_of(
        st.builds(lambda sid, step: {"event": "start", "streamSid": "MZ1", "start": {
            "streamSid": "MZ1", "callSid": sid, "customParameters": {"call": sid, "step": step}}},
            sid_like, steps),
        st.builds(lambda payload: {"event": "media", "media": {"track": "inbound", "payload": payload}},
                  st.one_of(st.just("/////w=="), nasty)),
        st.builds(lambda digit: {"event": "dtmf", "dtmf": {"digit": digit}}, nasty),
        st.builds(lambda event: {"event": event}, nasty),
        st.recursive(st.none() | st.booleans() | st.integers() | nasty,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty, inner, max_size=3),
                     max_leaves=8),
    ),
    max_size=8,
)


@FUZZ
@given(messages=stream_messages)
async def test_signed_media_streams_never_fail(
    client: Client, caplog: pytest.LogCaptureFixture, streams_done: StreamsDone, messages: list[Any]
) -> None:
    caplog.clear()
    streams_done.done.clear()
    await post(client, "voice", {}, {"CallSid": SIDS[0], "From": "+821012345678", "To": "15880000"})
    signature = RequestValidator(TOKEN).compute_signature("wss://hotline.example.com/twilio/stream", {})
    async with client.session.ws_connect(
        client.make_url("/twilio/stream"), headers={"X-Twilio-Signature": signature}
    ) as ws:
        for message in messages:
            if ws.closed:
                break
            await ws.send_str(json.dumps(message))
        if not ws.closed:
            await ws.send_str(json.dumps({"event": "stop", "stop": {}}))
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code in (None, aiohttp.WSCloseCode.OK)
    await asyncio.wait_for(streams_done.done.wait(), 10)
    assert not tracebacks(caplog)
    assert (await client.get("/healthz")).status == 200


async def test_the_fuzzed_server_takes_real_calls(client: Client) -> None:
    """The fuzz runs against a working configuration: a genuine call gets its first question
    (the IVR's answer may take more than the short response timeout: follow the redirects)."""
    sid = call_sid(0xF00D)
    status, document = await post(client, "voice", {}, {"CallSid": sid, "From": "+821012345678",
                                                        "To": "15880000"})
    for _ in range(100):
        assert status == 200
        if "<Gather" in document:
            break
        assert f"/twilio/resume?call={sid}" in document
        status, document = await post(client, "resume", {"call": sid}, {"CallSid": sid})
    assert "<Gather" in document
