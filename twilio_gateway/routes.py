"""aiohttp handlers: signed form in, gateway call, TwiML out; and the Media Stream socket.

Handlers only parse and check what Twilio sent (`SignatureChecker`, required fields) and
hand plain values to `TwilioGateway`; the gateway never sees a request object.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web
from multidict import MultiDict

from acd.errors import AcdError
from hotline.logs import bind_call, call_scope, printable
from ivr.channel import Input
from ivr.speech import SpeechSession
from speech.errors import SpeechError
from twilio_gateway.channel import Question
from twilio_gateway.follow_up import FOLLOW_UP_PREFIX, FOLLOW_UPS_KEY
from twilio_gateway.gateway import TwilioGateway, recognition
from twilio_gateway.mediastream import (
    Dtmf,
    Listener,
    Media,
    Start,
    Stop,
    StreamProtocolError,
    parse_message,
)
from twilio_gateway.signature import SignatureChecker
from twilio_gateway.twiml import render_empty

log = logging.getLogger("hotline.twilio")

GATEWAY_KEY = web.AppKey("twilio_gateway", TwilioGateway)
CHECKER_KEY = web.AppKey("twilio_signature", SignatureChecker)

_SID = re.compile(r"^[A-Za-z]{2}[0-9a-fA-F]{32}$")
_FOLLOW_UP_ID = re.compile(rf"^{re.escape(FOLLOW_UP_PREFIX)}[A-Za-z0-9_.-]{{1,64}}$")
_STEP = re.compile(r"[0-9]{1,9}")  # ASCII only: "²" is a digit for str.isdigit, not for int
STREAM_IDLE = 5.0  # seconds without any stream message before we stop listening
STREAM_MAX_BAD = 20  # malformed stream messages tolerated before closing
STREAM_MAX_MESSAGE = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _twiml(document: str) -> web.Response:
    return web.Response(text=document, content_type="text/xml")


def _sid(value: str | None, what: str) -> str:
    if not value or not _SID.match(value):
        raise web.HTTPBadRequest(text=f"{what}: missing or malformed")
    return value


def parse_step(raw: str) -> int | None:
    """A question's step number as our URLs and stream parameters carry it, else None."""
    return int(raw) if _STEP.fullmatch(raw) else None


def _step(request: web.Request, required: bool) -> int | None:
    raw = request.query.get("step")
    if raw is None:
        if required:
            raise web.HTTPBadRequest(text="step: missing")
        return None
    step = parse_step(raw)
    if step is None:
        raise web.HTTPBadRequest(text="step: not a number")
    return step


def _agent(request: web.Request) -> str | None:
    agent = request.query.get("agent")
    if agent is not None and not 0 < len(agent) <= 64:
        raise web.HTTPBadRequest(text="agent: malformed")
    return agent


def _own_call(request: web.Request, form: MultiDict[str]) -> str:
    """The call the webhook is about: the signed `call` query parameter, which must be the
    CallSid Twilio posts (the call executing our TwiML)."""
    sid = _sid(form.get("CallSid"), "CallSid")
    if request.query.get("call", sid) != sid:
        raise web.HTTPBadRequest(text="call: does not match CallSid")
    return sid


async def _form(request: web.Request) -> MultiDict[str]:
    form = await request.app[CHECKER_KEY].read_form(request)
    call = request.query.get("call") or form.get("CallSid") or ""
    if _SID.match(call):  # the lines logged about this webhook (and the IVR it starts)
        agent = request.query.get("agent", "")
        bind_call(call, agent if 0 < len(agent) <= 64 else None)
    return form


async def voice(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _sid(form.get("CallSid"), "CallSid")
    gateway = request.app[GATEWAY_KEY]
    return _twiml(await gateway.incoming(sid, form.get("From", ""), form.get("To", "")))


async def gather(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _own_call(request, form)
    step = _step(request, True)
    assert step is not None
    speech = form.get("SpeechResult", "").strip()
    digits = form.get("Digits", "").strip()
    if digits and not re.fullmatch(r"[0-9*#]{1,64}", digits):
        raise web.HTTPBadRequest(text="Digits: malformed")
    if speech:
        answer = Input.speech(recognition(speech, form.get("Confidence", "0")))
    elif digits:
        answer = Input.dtmf(digits)
    else:
        answer = Input.none()
    return _twiml(await request.app[GATEWAY_KEY].gather(sid, step, answer))


async def resume(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _own_call(request, form)
    return _twiml(await request.app[GATEWAY_KEY].resume(sid, _step(request, False)))


async def hold(request: web.Request) -> web.Response:
    form = await _form(request)
    return _twiml(await request.app[GATEWAY_KEY].hold(_own_call(request, form)))


async def dial(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _own_call(request, form)
    gateway = request.app[GATEWAY_KEY]
    moved = gateway.conferences.caller_document(sid)  # the agent leg went into a conference
    if moved is not None:
        return _twiml(moved)
    return _twiml(await gateway.dial_ended(sid, form.get("DialCallStatus", ""), _agent(request)))


async def agent(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _sid(request.query.get("call"), "call")
    gateway = request.app[GATEWAY_KEY]
    status = form.get("CallStatus", "")
    gateway.agent_answered(sid, status, _agent(request))
    leg = form.get("CallSid", "")
    if status in ("in-progress", "answered") and _SID.match(leg):  # a conference moves this leg
        gateway.conferences.agent_leg(sid, _agent(request), leg)
    return _twiml(render_empty())


async def status(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _sid(form.get("CallSid"), "CallSid")
    request.app[GATEWAY_KEY].status(sid, form.get("CallStatus", ""))
    return _twiml(render_empty())


def _recorded_call(value: str | None) -> str:
    """The call a recording is for: a CallSid, or a follow-up call's id (its <Dial> is on the
    customer leg Hotline placed)."""
    if value and _FOLLOW_UP_ID.match(value):
        return value
    return _sid(value, "call")


async def recording(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _recorded_call(request.query.get("call") or form.get("CallSid"))
    request.app[GATEWAY_KEY].recording(
        sid, form.get("RecordingStatus", ""), form.get("RecordingUrl", "")
    )
    return _twiml(render_empty())


async def callback(request: web.Request) -> web.Response:
    form = await _form(request)
    sid = _sid(request.query.get("call"), "call")
    leg = _sid(form.get("CallSid"), "CallSid")
    request.app[GATEWAY_KEY].callback_status(sid, form.get("CallStatus", ""), leg)
    return _twiml(render_empty())


async def callback_dial(request: web.Request) -> web.Response:
    """The <Dial> of a callback's customer ended (DialCallStatus): done, or dial again."""
    form = await _form(request)
    sid = _sid(request.query.get("call"), "call")
    return _twiml(request.app[GATEWAY_KEY].callbacks.dial_ended(sid, form.get("DialCallStatus", "")))


async def follow_up(request: web.Request) -> web.Response:
    """Status of a follow-up call's customer leg (twilio_gateway/follow_up.py)."""
    form = await _form(request)
    call_id = request.query.get("call", "")
    follow_ups = request.app.get(FOLLOW_UPS_KEY)
    if follow_ups is not None and 0 < len(call_id) <= 64:
        follow_ups.status(call_id, _sid(form.get("CallSid"), "CallSid"), form.get("CallStatus", ""))
    return _twiml(render_empty())


async def stream(request: web.Request) -> web.StreamResponse:
    request.app[CHECKER_KEY].check_upgrade(request)
    ws = web.WebSocketResponse(max_msg_size=STREAM_MAX_MESSAGE)
    await ws.prepare(request)
    with call_scope():
        try:
            await listen(request.app[GATEWAY_KEY], ws)
        finally:
            await ws.close()
    return ws


async def listen(gateway: TwilioGateway, ws: web.WebSocketResponse) -> None:
    """Feed one Media Stream into the recognizer until the open question has its answer."""
    listener: Listener | None = None
    open_question: Question | None = None
    barged = True
    session: SpeechSession | None = None
    sid, step = "", 0
    answer: Input | None = None
    bad = 0
    try:
        while answer is None:
            if open_question is not None and open_question.answer.done():
                return  # answered another way (keys to the <Gather>, hang-up): stop streaming
            msg = await ws.receive(timeout=STREAM_IDLE)
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                break
            if msg.type is not WSMsgType.TEXT:
                continue
            try:
                message = parse_message(msg.data)
            except StreamProtocolError as exc:
                bad += 1
                log.warning("twilio stream: bad message (%s)", printable(exc))
                if bad > STREAM_MAX_BAD:
                    break
                continue
            if isinstance(message, Stop):
                break
            if isinstance(message, Start):
                if listener is not None:
                    continue
                raw_step = message.parameters.get("step", "")
                sid = message.call_sid
                if _SID.match(sid):
                    bind_call(sid)
                parsed = parse_step(raw_step)
                step = -1 if parsed is None else parsed
                call = gateway.stream_question(sid, step) if parsed is not None else None
                if call is None or call.channel.question is None:
                    log.info("twilio stream for call %s step %s: no such open question",
                             printable(sid), printable(raw_step))
                    return
                question = call.channel.question
                if question.speech is not None and gateway.recognizer is not None:
                    session = gateway.recognizer.session(
                        question.speech.language, question.speech.grammar
                    )
                listener = Listener(
                    session, question.speech, question.digits,
                    silence_ends=not question.during_prompts,
                )
                open_question = question
                barged = not question.during_prompts
            elif listener is None:
                continue
            elif isinstance(message, Media):
                if message.track in ("inbound", "inbound_track"):
                    answer = await listener.media(message.payload)
                    if not barged and listener.heard and answer is None:
                        barged = True
                        gateway.barge_in(sid)
            elif isinstance(message, Dtmf):
                answer = listener.dtmf(message.digit)
    except TimeoutError:
        log.info("twilio stream for call %s: no audio for %s s", sid, STREAM_IDLE)
    except SpeechError as exc:
        log.error("twilio stream for call %s: recognizer failed: %s", sid, exc)
        answer = Input.none()
    finally:
        settled = open_question is not None and open_question.answer.done()
        try:
            if listener is not None and answer is None and not settled:
                answer = await listener.end()
        except SpeechError as exc:
            log.error("twilio stream for call %s: recognizer failed: %s", sid, exc)
            answer = Input.none()
        finally:
            if session is not None:
                await session.close()
            call = gateway.calls.get(sid)
            delivered = answer is not None and call is not None and call.channel.deliver(step, answer)
            if delivered and not barged:  # answered during the prompts: stop them now
                gateway.barge_in(sid)


def guarded(handler: Handler) -> Handler:
    """A webhook racing the ACD (a late callback for a call that moved on) is logged and
    acknowledged; Twilio gets valid TwiML, never a 500."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        with call_scope():
            try:
                return await handler(request)
            except AcdError as exc:
                log.warning("twilio webhook %s: %s", printable(request.path), printable(exc))
                return _twiml(render_empty())

    return wrapper


WEBHOOKS: dict[str, Handler] = {
    "voice": voice,
    "gather": gather,
    "resume": resume,
    "hold": hold,
    "dial": dial,
    "agent": agent,
    "status": status,
    "recording": recording,
    "callback": callback,
    "callback-dial": callback_dial,
    "follow-up": follow_up,
}


def add_routes(app: web.Application, prefix: str) -> None:
    for name, handler in WEBHOOKS.items():
        app.router.add_post(f"{prefix}{name}", guarded(handler))
    app.router.add_get(f"{prefix}stream", stream)
