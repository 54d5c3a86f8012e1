"""Regressions found by trying the webhooks as a hostile network would: bodies split across
TCP segments or chunks, non-ASCII digits, newlines in form values, retried webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from acd.call import CallState
from acd.clock import VirtualClock
from hotline.logs import JsonFormatter, LoggingSettings, TextFormatter, configure_logging
from twilio_gateway import setup_twilio
from twilio_gateway.routes import CHECKER_KEY

from .conftest import Harness, make_acd, make_registry, make_settings
from .fakes import ACCOUNT, PUBLIC, TOKEN, FakeTwilioApi, StepLog, call_sid
from .test_flow import base_form, press, start_call

Make = Callable[..., AbstractAsyncContextManager[Harness]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def entered_server() -> AsyncIterator[tuple[TestServer, asyncio.Event]]:
    """The Twilio routes behind a middleware that tells the test when a request's handler
    has started (its headers are parsed; the body may still be on its way)."""
    entered = asyncio.Event()

    @web.middleware
    async def signal(request: web.Request, handler: Handler) -> web.StreamResponse:
        entered.set()
        return await handler(request)

    clock = VirtualClock(1_790_000_000.0)
    app = web.Application(middlewares=[signal])
    setup_twilio(app, make_settings(), make_acd(clock), make_registry(), None, StepLog(), None,
                 FakeTwilioApi(), clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, entered
    finally:
        await server.close()


async def read_status(reader: asyncio.StreamReader) -> int:
    async with asyncio.timeout(10):
        line = await reader.readline()
    return int(line.split()[1])


def signed_head(path: str, signature: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: hotline.example.com\r\n"
        f"X-Twilio-Signature: {signature}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{extra}\r\n"
    ).encode()


async def test_signed_body_in_two_tcp_segments_is_accepted() -> None:
    form = {"AccountSid": ACCOUNT, "CallSid": call_sid(1), "CallStatus": "completed",
            "From": "+821012345678"}
    body = urlencode(form).encode()
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/status", form)
    async with entered_server() as (server, entered):
        assert server.port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            half = len(body) // 2
            writer.write(signed_head("/twilio/status", signature, f"Content-Length: {len(body)}\r\n")
                         + body[:half])
            await writer.drain()
            await entered.wait()  # the handler is reading: the rest is not there yet
            writer.write(body[half:])
            await writer.drain()
            assert await read_status(reader) == 200
        finally:
            writer.close()


async def test_a_body_that_stops_arriving_is_a_timeout() -> None:
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/status", {})
    async with entered_server() as (server, _):
        assert server.port is not None
        server.app[CHECKER_KEY].body_timeout = 0.2
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(signed_head("/twilio/status", signature, "Content-Length: 100\r\n") + b"CallSid=")
            await writer.drain()
            assert await read_status(reader) == 408  # the other 92 bytes never come
        finally:
            writer.close()


async def test_oversized_chunked_body_is_refused_as_too_large() -> None:
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/status", {})
    async with entered_server() as (server, entered):
        assert server.port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            chunk = b"a" * 1000
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            writer.write(signed_head("/twilio/status", signature, "Transfer-Encoding: chunked\r\n") + frame)
            await writer.drain()
            await entered.wait()  # the first chunk alone would parse as a (bad) form
            with contextlib.suppress(ConnectionError):  # the server may close once it refused
                for _ in range(80):
                    writer.write(frame)
                await writer.drain()
            assert await read_status(reader) == 413
        finally:
            writer.close()


async def test_non_ascii_step_numbers_are_bad_requests(
    harness: Make, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness() as h:
        sid = call_sid(2)
        await start_call(h, sid)
        for webhook in ("gather", "resume"):
            for step in ("²", "١", "5²"):
                query = urlencode({"call": sid, "step": step})
                status, _ = await h.poster.post(f"/twilio/{webhook}?{query}", base_form(sid, Digits="1"))
                assert status == 400, (webhook, step)
        assert h.gateway.calls[sid].channel.question is not None  # the call goes on
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_media_stream_with_a_non_ascii_step_closes_cleanly(
    harness: Make, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness() as h:
        sid = call_sid(3)
        await start_call(h, sid)
        signature = RequestValidator(TOKEN).compute_signature("wss://hotline.example.com/twilio/stream", {})
        url = h.base.replace("http://", "ws://") + "twilio/stream"
        async with h.session.ws_connect(url, headers={"X-Twilio-Signature": signature}) as ws:
            await ws.send_str(json.dumps({
                "event": "start", "streamSid": "MZ1",
                "start": {"streamSid": "MZ1", "callSid": sid, "customParameters": {"call": sid, "step": "²"}},
            }))
            message = await ws.receive(timeout=5)
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == aiohttp.WSCloseCode.OK
        assert (await press(h, sid, 1, "2")).find("Play") is not None  # the call goes on
    # checked once the server is closed (its handlers done): no "Error handling request"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_newlines_in_form_values_do_not_forge_log_lines(
    harness: Make, caplog: pytest.LogCaptureFixture
) -> None:
    forged = "+8215990000\n2026-12-01 09:00:00 INFO hotline.api: agent 1001: logout by admin"
    caplog.set_level(logging.INFO)
    async with harness() as h:
        sid = call_sid(4)
        await h.poster.twiml("/twilio/voice", base_form(sid, From="+821012345678", To=forged))
    lines = [r for r in caplog.records if r.name == "hotline.twilio" and sid in r.getMessage()]
    assert lines
    for record in lines:
        assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
        assert "\\n2026-12-01" in record.getMessage()  # escaped, still readable
    # the formatters keep any message to one line, whoever logged it
    raw = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", (forged,), None)
    for formatter in (JsonFormatter(), TextFormatter()):
        assert "\n" not in formatter.format(raw)


async def test_formatters_keep_each_record_on_one_line_through_the_handler() -> None:
    stream = io.StringIO()
    handler = configure_logging(LoggingSettings(format="json"), stream=stream)
    try:
        logging.getLogger("hotline.twilio").warning("value %s", "a\nb\r\nc\x85d\u2028e\u2029f")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()  # splits on every Unicode line boundary
    assert len(lines) == 1 and json.loads(lines[0])["message"] == "value a\nb\r\nc\x85d\u2028e\u2029f"
    raw = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("a\x85b\u2028c",), None)
    assert len(TextFormatter().format(raw).splitlines()) == 1


async def test_retried_incoming_webhook_for_a_waiting_call_gets_hold_at_once(harness: Make) -> None:
    # With the IVR over there is no document to wait for: without the fix the retry waited the
    # whole response timeout (an hour here) and the client's 10 s timeout failed the test.
    async with harness(settings=make_settings(response_timeout=3600)) as h:
        sid = call_sid(5)
        await start_call(h, sid)
        first = await press(h, sid, 1, "1")  # booking: nobody is logged in, the caller waits
        assert h.acd.calls[sid].state is CallState.QUEUED
        again = await start_call(h, sid)
        assert again.find("Play") is not None and again.find("Redirect") is not None
        assert again.find("Redirect").text == first.find("Redirect").text  # type: ignore[union-attr]
        assert len(h.gateway.calls) == 1 and h.acd.calls[sid].state is CallState.QUEUED


async def test_retried_incoming_webhook_for_a_ringing_call_gets_the_dial(harness: Make) -> None:
    async with harness(settings=make_settings(response_timeout=3600)) as h:
        sid = call_sid(6)
        h.acd.login("1001")
        await start_call(h, sid)
        dial = await press(h, sid, 1, "1")  # 1001 is free: dialled in the transfer's answer
        assert h.acd.calls[sid].state is CallState.RINGING
        again = await start_call(h, sid)
        assert again.find("Dial/Sip") is not None
        assert ET.tostring(again.find("Dial")) == ET.tostring(dial.find("Dial"))  # type: ignore[arg-type]
