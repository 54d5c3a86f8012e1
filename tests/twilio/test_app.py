"""`setup_twilio` as `hotline serve` uses it: production clients built and closed by the
cleanup context; calls still in the IVR ended on shutdown."""

from __future__ import annotations

import gc
import warnings

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from twilio.http.async_http_client import AsyncTwilioHttpClient

from acd.clock import VirtualClock
from ivr.events import IvrEvent
from twilio_gateway import setup_twilio
from twilio_gateway.recording import AiohttpFetcher
from twilio_gateway.routes import GATEWAY_KEY

from .conftest import make_acd, make_registry, make_settings
from .fakes import ACCOUNT, Poster, StepLog, call_sid


async def test_default_clients_are_built_and_closed_and_ivr_runs_end_on_shutdown() -> None:
    clock = VirtualClock(1_790_000_000.0)
    app = web.Application()
    steps = StepLog()
    events: list[IvrEvent] = []
    setup_twilio(  # objects built by earlier cleanup contexts come as functions of the app
        app, make_settings(), make_acd(clock), make_registry(), recognizer=lambda app: None,
        writer=lambda app: steps, recordings=lambda app: None, clock=clock, on_ivr_event=events.append,
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    gateway = app[GATEWAY_KEY]
    assert isinstance(gateway.rest.client.http_client, AsyncTwilioHttpClient)
    assert isinstance(gateway.fetcher, AiohttpFetcher)
    session = gateway.fetcher.session
    async with aiohttp.ClientSession() as http:
        poster = Poster(http, str(server.make_url("/")))
        sid = call_sid(30)
        await poster.twiml("/twilio/voice", {"AccountSid": ACCOUNT, "CallSid": sid})
    task = gateway.calls[sid].task
    assert task is not None and not task.done()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        await server.close()
        gc.collect()
    assert task.done() and session.closed
    assert steps.steps[-1][2:] == ("outcome", "abandoned:caller_hangup")
    assert [type(e).__name__ for e in events] == ["NodeEntered", "NodeEntered", "IvrOutcome"]


def test_an_empty_section_is_refused() -> None:
    import pytest

    from twilio_gateway.errors import TwilioSettingsError

    clock = VirtualClock()
    with pytest.raises(TwilioSettingsError):
        setup_twilio(web.Application(), None, make_acd(clock), make_registry())
