"""Follow-up calls on Twilio (issue 15): the customer, connected to the agent who took the task.

The follow-up enters the ACD reserved for that agent (acd/targeted.py; source
`twilio-follow-up`). When the core offers it to the agent, Hotline places the call through
Twilio's REST API (`Calls.create`): `To` the customer's number, `From` `twilio.callback_from`
(else the first of `twilio.numbers`), inline TwiML that `<Dial>`s the agent's SIP URI or
Client identity (`twilio.agents`) and records both legs as an inbound call is (`twilio.record`),
and a status callback to `<prefix>follow-up?call=<id>`
(events `answered`, `completed`, signed like every webhook). Statuses drive the core and
the outcome (acd/follow_up.py):

- Twilio accepted the call -> `acd.answer`: the agent is busy with it from now on (the
  core's ring timer stops; ringing the customer may take longer than any ring timeout);
- `in-progress` / `answered`: the customer picked up (the <Dial> then rings the agent);
- `completed` after that -> `acd.end`: `reached`;
- `busy`, `no-answer`, `failed`, `canceled` before an answer -> `acd.end` with disposition
  `callback_failed` (as an Asterisk callback whose customer was not reached): `busy`,
  `no_answer`, `failed`;
- the REST request refused -> the call leaves the ACD (`CallAbandoned`, reason
  `follow_up_failed`, the agent free again): `failed`;
- the fallback of acd/targeted.py (agent logged out, wait over) -> `released`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from twilio.twiml.voice_response import Dial, VoiceResponse

from acd.call import CallState
from acd.engine import Acd
from acd.events import CallAbandoned, CallAssigned, CallEnded, Event
from acd.follow_up import FollowUpOutcome, from_call_status
from acd.targeted import TargetedCalls
from hotline.privacy import mask_phone
from twilio_gateway.errors import TwilioApiError
from twilio_gateway.rest import TwilioCalls
from twilio_gateway.settings import AgentTarget, TwilioSettings
from twilio_gateway.twiml import dial_recording_options

log = logging.getLogger("hotline.twilio.follow_up")

SOURCE = "twilio-follow-up"
FOLLOW_UP_PREFIX = "followup-"  # call ids of follow-ups (hotline/service_process/follow_up_calls.py)
WEBHOOK = "follow-up"
EVENTS = ("answered", "completed")
TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
OutcomeHook = Callable[[str, FollowUpOutcome], None]


def render_follow_up(target: AgentTarget, settings: TwilioSettings, call_id: str) -> str:
    """The customer's leg: connect them to the agent (SIP URI or Client identity), recorded
    like an inbound call when `twilio.record` is on: the recording webhook stores the file on
    the follow-up's call record."""
    response = VoiceResponse()
    recording_url = settings.url("recording", call=call_id) if settings.record else None
    dial = Dial(timeout=settings.ring_timeout, answer_on_bridge=True, **dial_recording_options(recording_url))
    if target.kind == "sip":
        dial.sip(target.address)
    else:
        dial.client().identity(target.address)
    response.append(dial)
    return str(response)


@dataclass
class FollowUpCall:
    call_id: str
    number: str
    agent_id: str
    sid: str = ""  # the customer leg's CallSid once Twilio created it
    answered: bool = False
    outcome: FollowUpOutcome | None = None


class TwilioFollowUps:
    source = SOURCE

    def __init__(self, settings: TwilioSettings, acd: Acd, rest: TwilioCalls, targeted: TargetedCalls) -> None:
        self.settings = settings
        self.acd = acd
        self.rest = rest
        self.targeted = targeted
        self.calls: dict[str, FollowUpCall] = {}
        self.hooks: list[OutcomeHook] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.unsubscribe = acd.subscribe(self._on_event, kinds=(CallAssigned, CallEnded, CallAbandoned))

    def caller_id(self) -> str | None:
        return self.settings.callback_from or next(iter(self.settings.numbers), None)

    def place(self, call_id: str, queue: str, number: str, agent_id: str, *, wait: float) -> None:
        if self.settings.agents.get(agent_id) is None:
            raise TwilioApiError(f"follow-up {call_id}: agent {agent_id} has no SIP URI / client identity")
        if self.caller_id() is None:
            raise TwilioApiError(f"follow-up {call_id}: set twilio.callback_from (the number customers see)")
        self.calls[call_id] = FollowUpCall(call_id, number, agent_id)
        try:
            self.targeted.arrive(call_id, queue, agent_id, wait=wait, caller=number, source=SOURCE)
        except Exception:
            self.calls.pop(call_id, None)
            raise

    def add_outcome_hook(self, hook: OutcomeHook) -> None:
        self.hooks.append(hook)

    def close(self) -> None:
        self.unsubscribe()
        self.targeted.unsubscribe()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the core's decisions -> REST ----------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, CallAssigned | CallEnded | CallAbandoned):
            return
        call = self.calls.get(event.call_id)
        if call is None:
            call = self._adopt(event)
            if call is None:
                return
        if isinstance(event, CallAssigned):
            task = asyncio.get_running_loop().create_task(self._dial(call))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self.calls.pop(event.call_id, None)
        outcome = call.outcome or FollowUpOutcome.RELEASED
        log.info("follow-up %s: %s", call.call_id, outcome.value)
        for hook in self.hooks:
            try:
                hook(call.call_id, outcome)
            except Exception:
                log.exception("follow-up %s: outcome hook failed", call.call_id)

    def _adopt(self, event: CallAssigned | CallEnded | CallAbandoned) -> FollowUpCall | None:
        """A follow-up this process did not place (restored from the journal after a restart):
        offered now -> dial it; ended -> its outcome (`failed` when not known to be reached)."""
        if isinstance(event, CallAssigned):
            acd_call = self.acd.calls.get(event.call_id)
            if acd_call is None or acd_call.source != SOURCE:
                return None
            call = self.calls[event.call_id] = FollowUpCall(event.call_id, acd_call.caller, event.agent_id)
            return call
        if not event.call_id.startswith(FOLLOW_UP_PREFIX):
            return None
        call = FollowUpCall(event.call_id, "", "")
        if isinstance(event, CallEnded):
            call.outcome = FollowUpOutcome.REACHED if event.disposition != "callback_failed" else FollowUpOutcome.FAILED
        return call

    async def _dial(self, call: FollowUpCall) -> None:
        target = self.settings.agents[call.agent_id]
        caller_id = self.caller_id()
        assert caller_id is not None
        try:
            call.sid = await self.rest.create(
                to=call.number, from_=caller_id, twiml=render_follow_up(target, self.settings, call.call_id),
                status_callback=self.settings.url(WEBHOOK, call=call.call_id), events=EVENTS,
            )
        except TwilioApiError as exc:
            log.error("follow-up %s: Twilio refused the call to %s: %s", call.call_id, mask_phone(call.number), exc)
            self._give_up(call, FollowUpOutcome.FAILED)
            return
        log.info("follow-up %s: calling %s for agent %s (%s)", call.call_id, mask_phone(call.number),
                 call.agent_id, call.sid)
        acd_call = self.acd.calls.get(call.call_id)
        if acd_call is not None and acd_call.state is CallState.RINGING and call.outcome is None:
            self.acd.answer(call.call_id)

    def _give_up(self, call: FollowUpCall, outcome: FollowUpOutcome) -> None:
        acd_call = self.acd.calls.get(call.call_id)
        call.outcome = outcome
        if acd_call is None:
            return
        if acd_call.state is CallState.ON_CALL:
            self.acd.end(call.call_id, disposition="" if outcome is FollowUpOutcome.REACHED else "callback_failed")
        elif acd_call.state in (CallState.RINGING, CallState.QUEUED):
            self.acd.abandon(call.call_id, reason=f"follow_up_{outcome.value}")

    # -- status callbacks -> core --------------------------------------------------------------

    def status(self, call_id: str, sid: str, status: str) -> None:
        """A status callback of the customer's leg (reports of another leg are ignored)."""
        call = self.calls.get(call_id)
        acd_call = self.acd.calls.get(call_id)
        if call is None and acd_call is not None and acd_call.source == SOURCE and acd_call.agent_id:
            # placed before a restart (the ACD has it from its journal): its customer leg reports
            call = self.calls[call_id] = FollowUpCall(call_id, acd_call.caller, acd_call.agent_id, sid=sid)
        if call is None or (call.sid and sid != call.sid):
            return
        if status in ("in-progress", "answered"):
            call.answered = True
        elif status in TERMINAL:
            self._give_up(call, from_call_status(status, call.answered))


FOLLOW_UPS_KEY = web.AppKey("twilio_follow_ups", TwilioFollowUps)
