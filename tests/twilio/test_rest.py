"""The REST side: the exact requests the twilio Client makes through the injected HTTP client."""

from __future__ import annotations

import pytest

from twilio_gateway.errors import TwilioApiError
from twilio_gateway.rest import TwilioCalls

from .conftest import make_settings
from .fakes import ACCOUNT, TOKEN, ApiRequest, FakeTwilioApi, call_sid

CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls"


async def test_update_redirect_hangup_and_create_requests() -> None:
    api = FakeTwilioApi()
    calls = TwilioCalls(make_settings(), api)
    sid = call_sid(1)
    await calls.update_twiml(sid, "<Response><Hangup/></Response>")
    await calls.redirect(sid, "https://hotline.example.com/twilio/hold?call=" + sid)
    await calls.hangup(sid)
    created = await calls.create(
        to="sip:1001@pbx.example.com", from_="+8215990000", twiml="<Response/>",
        status_callback="https://hotline.example.com/twilio/callback?call=" + sid,
        events=("answered", "completed"),
    )
    assert created == f"CA{0xF001:032x}"
    auth = (ACCOUNT, TOKEN)
    assert api.requests == [
        ApiRequest("POST", f"{CALLS}/{sid}.json", {"Twiml": "<Response><Hangup/></Response>"}, auth),
        ApiRequest("POST", f"{CALLS}/{sid}.json",
                   {"Url": "https://hotline.example.com/twilio/hold?call=" + sid, "Method": "POST"}, auth),
        ApiRequest("POST", f"{CALLS}/{sid}.json", {"Status": "completed"}, auth),
        ApiRequest("POST", f"{CALLS}.json", {
            "To": "sip:1001@pbx.example.com", "From": "+8215990000", "Twiml": "<Response/>",
            "StatusCallback": "https://hotline.example.com/twilio/callback?call=" + sid,
            "StatusCallbackMethod": "POST", "StatusCallbackEvent": ["answered", "completed"],
        }, auth),
    ]


async def test_twilio_errors_become_our_own() -> None:
    api = FakeTwilioApi()
    sid = call_sid(2)
    api.fail[sid] = 404
    with pytest.raises(TwilioApiError) as info:
        await TwilioCalls(make_settings(), api).update_twiml(sid, "<Response/>")
    assert info.value.status == 404
    assert isinstance(info.value.detail, dict) and info.value.detail["code"] == 20404
    assert str(sid) in str(info.value)

