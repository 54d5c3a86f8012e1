"""Webhook authentication against the running server, with signatures made by Twilio's own
RequestValidator over the public URL (the server listens on a different, local one)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import aiohttp
from twilio.request_validator import RequestValidator

from .conftest import Harness
from .fakes import ACCOUNT, PUBLIC, call_sid

Make = Callable[..., AbstractAsyncContextManager[Harness]]


def status_form(sid: str, status: str = "completed") -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, "CallStatus": status, "From": "+821012345678"}


async def test_signed_request_is_accepted(harness: Make) -> None:
    async with harness() as h:
        status, body = await h.poster.post("/twilio/status", status_form(call_sid(1)))
        assert (status, body.strip().endswith("<Response />")) == (200, True)


async def test_missing_signature_is_forbidden(harness: Make) -> None:
    async with harness() as h:
        status, _ = await h.poster.post("/twilio/voice", status_form(call_sid(1)), sign=False)
        assert status == 403
        assert h.gateway.calls == {}


async def test_forged_signature_is_forbidden(harness: Make) -> None:
    async with harness() as h:
        form = status_form(call_sid(1))
        wrong_key = RequestValidator("not-the-token").compute_signature(PUBLIC + "/twilio/voice", form)
        assert (await h.poster.post("/twilio/voice", form, signature=wrong_key))[0] == 403
        assert (await h.poster.post("/twilio/voice", form, signature="AAAA"))[0] == 403
        assert h.gateway.calls == {}


async def test_replay_with_altered_parameters_is_forbidden(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(2)
        form = {"AccountSid": ACCOUNT, "CallSid": sid, "From": "+821012345678", "To": "+8215990000"}
        signature = h.poster.sign("/twilio/voice", form)
        for altered in (
            {**form, "From": "+821099999999"},  # value changed
            {**form, "Extra": "1"},  # parameter added
            {k: v for k, v in form.items() if k != "To"},  # parameter removed
        ):
            assert (await h.poster.post("/twilio/voice", altered, signature=signature))[0] == 403
        # the same signature on another webhook or with another query string
        assert (await h.poster.post("/twilio/status", form, signature=signature))[0] == 403
        gather = h.poster.sign(f"/twilio/gather?call={sid}&step=1", {**form, "Digits": "1"})
        assert (await h.poster.post(f"/twilio/gather?call={sid}&step=2", {**form, "Digits": "1"},
                                    signature=gather))[0] == 403
        assert h.gateway.calls == {}


async def test_signature_over_the_local_url_is_refused(harness: Make) -> None:
    async with harness() as h:
        form = status_form(call_sid(3))
        local = RequestValidator("test-auth-token-1234").compute_signature(
            h.base.rstrip("/") + "/twilio/status", form
        )
        assert (await h.poster.post("/twilio/status", form, signature=local))[0] == 403


async def test_oversized_body_is_refused(harness: Make) -> None:
    async with harness() as h:
        form = {**status_form(call_sid(4)), "Junk": "x" * (64 * 1024)}
        assert (await h.poster.post("/twilio/status", form))[0] == 413

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(80):
                yield b"a" * 1024

        async with h.session.post(
            h.base + "twilio/status", data=chunks(),
            headers={"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"},
        ) as resp:
            assert resp.status == 413  # no Content-Length: refused while reading


async def test_malformed_bodies_are_bad_requests(harness: Make) -> None:
    async with harness() as h:
        headers = {"X-Twilio-Signature": h.poster.sign("/twilio/status", {})}
        for body, content_type in (
            (b"CallSid=%ff%fe&CallStatus=completed", "application/x-www-form-urlencoded"),
            (b"CallSid&&&=", "application/x-www-form-urlencoded"),
            (b'{"CallSid": "CA1"}', "application/json"),
        ):
            async with h.session.post(
                h.base + "twilio/status", data=body, headers={**headers, "Content-Type": content_type}
            ) as resp:
                assert resp.status == 400, body


async def test_signed_but_invalid_fields_are_bad_requests(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(5)
        assert (await h.poster.post("/twilio/status", {"CallSid": "not-a-sid"}))[0] == 400
        assert (await h.poster.post("/twilio/voice", {"From": "+82"}))[0] == 400
        form = {"CallSid": sid, "Digits": "1"}
        assert (await h.poster.post(f"/twilio/gather?call={sid}&step=x", form))[0] == 400
        assert (await h.poster.post(f"/twilio/gather?call={sid}", form))[0] == 400
        other = call_sid(6)
        assert (await h.poster.post(f"/twilio/gather?call={other}&step=1", form))[0] == 400
        bad_digits = {"CallSid": sid, "Digits": "1<x>"}
        assert (await h.poster.post(f"/twilio/gather?call={sid}&step=1", bad_digits))[0] == 400


async def test_media_stream_upgrade_needs_a_signature(harness: Make) -> None:
    async with harness() as h:
        url = h.base.replace("http://", "ws://") + "twilio/stream"
        for headers in ({}, {"X-Twilio-Signature": "forged"}):
            try:
                async with h.session.ws_connect(url, headers=headers):
                    raise AssertionError("upgrade accepted")
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 403
        signed = RequestValidator("test-auth-token-1234").compute_signature(
            "wss://hotline.example.com/twilio/stream", {}
        )
        as_https = RequestValidator("test-auth-token-1234").compute_signature(
            "https://hotline.example.com/twilio/stream", {}
        )
        for good in (signed, as_https):
            async with h.session.ws_connect(url, headers={"X-Twilio-Signature": good}) as ws:
                await ws.send_str('{"event": "connected", "protocol": "Call"}')
                await ws.send_str('{"event": "stop", "stop": {}}')
                msg = await ws.receive(timeout=5)
                assert msg.type is aiohttp.WSMsgType.CLOSE
        other_host = RequestValidator("test-auth-token-1234").compute_signature(
            "wss://evil.example.com/twilio/stream", {}
        )
        try:
            async with h.session.ws_connect(url, headers={"X-Twilio-Signature": other_host}):
                raise AssertionError("upgrade accepted")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 403
