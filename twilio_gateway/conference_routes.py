"""Webhooks of calls in a Twilio conference (twilio_gateway/conference.py), signed and
checked like the others (`routes._form`):

  conference   the conference's status callback: start, end, participant join and leave
               (`?call=<the caller's CallSid>`; ConferenceSid, StatusCallbackEvent, CallSid)
  participant  the call status of a participant Hotline added (`?call=...&leg=<n>`)
"""

from __future__ import annotations

import re

from aiohttp import web

from twilio_gateway.routes import GATEWAY_KEY, Handler, _form, _sid, _twiml, guarded
from twilio_gateway.twiml import render_empty

_LEG = re.compile(r"[0-9]{1,9}")
EVENTS = frozenset({"conference-start", "conference-end", "participant-join", "participant-leave"})


async def conference(request: web.Request) -> web.Response:
    form = await _form(request)
    call = _sid(request.query.get("call"), "call")
    conference_sid = _sid(form.get("ConferenceSid"), "ConferenceSid")
    event = form.get("StatusCallbackEvent", "")
    leg = form.get("CallSid", "")
    if event.startswith("participant-"):
        leg = _sid(leg, "CallSid")
    if event in EVENTS:
        request.app[GATEWAY_KEY].conferences.conference_event(call, event, conference_sid, leg)
    return _twiml(render_empty())


async def participant(request: web.Request) -> web.Response:
    form = await _form(request)
    call = _sid(request.query.get("call"), "call")
    raw = request.query.get("leg", "")
    if not _LEG.fullmatch(raw):
        raise web.HTTPBadRequest(text="leg: missing or malformed")
    leg = _sid(form.get("CallSid"), "CallSid")
    request.app[GATEWAY_KEY].conferences.participant_status(call, int(raw), leg, form.get("CallStatus", ""))
    return _twiml(render_empty())


CONFERENCE_WEBHOOKS: dict[str, Handler] = {"conference": conference, "participant": participant}


def add_conference_routes(app: web.Application, prefix: str) -> None:
    for name, handler in CONFERENCE_WEBHOOKS.items():
        app.router.add_post(f"{prefix}{name}", guarded(handler))
