"""Fair callbacks on Twilio, with the core's rules (acd/callbacks.py) as on Asterisk
(asterisk/callback.py): agent first, then the customer.

A caller who accepts a callback in the IVR hangs up; the request goes through a
`CallbackBook` whose keeper is the ACD (acd/held.py):
- placed at once (caller = the callback number, source `twilio-callback`) when the queue's
  `callbacks.hours` are open and its slot, if any, has begun; else held in the ACD's own state
  (journal, snapshot, replicas: it survives a restart) and placed by the ACD at the next
  opening, in the order callers arrived;
- a second request from the same number while one is open is merged into it.
A caller who accepts a callback offered while waiting keeps their place in the ACD as it is.

When the ACD assigns an agent, the gateway creates the agent's leg over REST (`Calls.create`)
with TwiML dialling the customer once the agent answers; the <Dial>'s action
(`callback-dial?call=<id>`) hears how each dial of the customer ended and dials again after
`callback_retry_delay` up to `callback_attempts` times. When the agent's leg ends, the call
ends with disposition `callback_failed` if the customer was never reached. Outcomes go to the
book: `reached`, `no_answer`, `cancelled` (abandoned, or `cancel(queue, number)`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.call import Call, CallState
from acd.callbacks import CallbackBook, Outcome, Request
from acd.errors import AcdError
from acd.events import CallAbandoned, CallArrived, CallEnded, Event
from acd.held import AcdKeeper, LivePolicies, accept_callback
from hotline.privacy import mask_phone
from ivr.channel import Prompt, TransferRequest
from twilio_gateway.call import Phase, TwilioCall
from twilio_gateway.channel import TwilioChannel
from twilio_gateway.twiml import render_callback_leg, render_hangup

if TYPE_CHECKING:
    from twilio_gateway.gateway import TwilioGateway

log = logging.getLogger("hotline.twilio.callback")

CALLBACK_SOURCE = "twilio-callback"  # the ACD source of a callback taken in the IVR
FAILED = "callback_failed"  # disposition of a callback whose customer was never reached
CANCELLED = "callback_cancelled"
REACHED_STATUSES = frozenset({"completed", "answered"})  # DialCallStatus of a customer who answered


@dataclass
class Dials:
    """The customer dials of the current agent leg."""

    tries: int = 0
    reached: bool = False


class TwilioCallbacks:
    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway
        acd = gateway.acd
        self.book = CallbackBook(acd.clock.now, LivePolicies(acd), self._place, keeper=AcdKeeper(acd))
        self.dials: dict[str, Dials] = {}
        self._unsubscribe = acd.subscribe(self._on_acd_event, kinds=(CallArrived, CallEnded, CallAbandoned))

    def close(self) -> None:
        self._unsubscribe()

    # -- the IVR hands a callback over ---------------------------------------------------------

    def arrive(
        self, call_id: str, queue: str, number: str, *, slot: tuple[float, float] | None = None,
        arrived_at: float | None = None, dialed: str = "", language: str = "", priority: int = 0,
        tier: str = "regular", skills: dict[str, int] | None = None,
    ) -> Request:
        """A callback to `number` in `queue` (the IVR's, or one asked by the API with a slot):
        placed in the ACD now when due, else held there until its opening or slot. Returns
        the request that serves it (an earlier one of the same number when merged).
        AcdError / ValueError when refused."""
        return self.book.request(call_id, queue, number, arrived_at=arrived_at, slot=slot, language=language,
                                 priority=priority, tier=tier, skills=dict(skills or {}), dialed=dialed,
                                 source=CALLBACK_SOURCE)

    def take(self, call: TwilioCall, request: TransferRequest, prompts: list[Prompt]) -> str:
        """A callback accepted in the IVR (the call not in the ACD): through the book. The
        caller hears the confirmation and is hung up on."""
        number = call.callback_number = request.callback_number or ""
        call.phase = Phase.CALLBACK
        try:
            kept = self.arrive(call.sid, request.queue, number, dialed=call.dialed, language=call.language,
                               priority=request.priority, tier=request.tier, skills=request.skills)
        except (AcdError, ValueError) as exc:
            log.error("twilio call %s: cannot take the callback in %s: %s", call.sid, request.queue, exc)
            call.phase = Phase.OVER
            return render_hangup([*prompts, *self.gateway._sorry(call.language)], self.gateway.settings)
        if kept.call_id != call.sid:
            log.info("twilio call %s: callback to %s merged into %s", call.sid, mask_phone(number), kept.call_id)
            self.gateway._forget(call)
        elif not kept.placed:
            log.info("twilio call %s: callback to %s kept for %s (outside its hours or slot)", call.sid,
                     mask_phone(number), request.queue)
        return render_hangup(prompts, self.gateway.settings)

    def offered(self, call: TwilioCall, number: str, prompts: list[Prompt]) -> str:
        """A callback offered while waiting, accepted: the call keeps its place in the ACD."""
        call.phase = Phase.CALLBACK
        call.callback_number = number
        acd_call = self.gateway.acd.calls[call.sid]
        if self.gateway.acting() and acd_call.state is CallState.QUEUED:  # a restart knows it then
            accept_callback(self.gateway.acd, call.sid, number, CALLBACK_SOURCE)
        if call.sid not in self.book.open:
            self.book.adopt(Request(call.sid, acd_call.queue, number, acd_call.arrived_at, self.gateway.clock.now(),
                                    placed=True, attempts=1))
        return render_hangup(prompts, self.gateway.settings)

    def _place(self, request: Request) -> None:
        """Due now: the request enters the ACD, its wait counted from its first arrival."""
        acd = self.gateway.acd
        d = request.details
        skills = d.get("skills")
        acd.arrive(request.call_id, request.queue, caller=request.number, language=str(d.get("language", "")),
                   priority=int(str(d.get("priority", 0) or 0)), tier=str(d.get("tier", "regular")),
                   skills=skills if isinstance(skills, dict) else None, source=CALLBACK_SOURCE,
                   dialed=str(d.get("dialed", "")), waited=acd.clock.now() - request.arrived_at)

    def cancel(self, queue: str, number: str) -> bool:
        """The customer does not want the callback any more: a held one is dropped, one in
        the ACD leaves it (`callback_cancelled`; an agent leg ringing for it is hung up)."""
        request = self.book.by_number(queue, number)
        if request is None:
            return False
        acd_call = self.gateway.acd.calls.get(request.call_id)
        if acd_call is not None and acd_call.state in (CallState.QUEUED, CallState.RINGING):
            self.gateway.ops.abandon(request.call_id, CANCELLED)  # the outcome follows its event
        else:
            self.book.cancel(queue, number)
            call = self.gateway.calls.get(request.call_id)
            if call is not None:
                self.gateway._forget(call)
        return True

    # -- after a restart, or placed by the ACD's timer ---------------------------------------------

    def adopt(self, acd_call: Call) -> TwilioCall:
        """A callback in the ACD this gateway has no call for (placed by the ACD when its
        opening came, or from before a restart): keep it, to ring an agent for it."""
        g = self.gateway
        channel = TwilioChannel(acd_call.id, caller=None, dialed=acd_call.dialed or None, settings=g.settings,
                                clock=g.clock, on_transfer=g.ivr_runs.transfer, speech_languages=g.speech_languages)
        call = g.calls[acd_call.id] = TwilioCall(
            acd_call.id, acd_call.caller, acd_call.dialed, channel, phase=Phase.CALLBACK, language=acd_call.language,
            callback_number=acd_call.caller,
        )
        if self.book.placed(acd_call.id) is None:
            self.book.adopt(Request(acd_call.id, acd_call.queue, acd_call.caller, acd_call.arrived_at,
                                    acd_call.arrived_at, placed=True, attempts=1))
        log.info("twilio callback %s to %s taken (%s)", acd_call.id, mask_phone(acd_call.caller),
                 acd_call.state.value)
        return call

    def _on_acd_event(self, event: Event) -> None:
        if not self.gateway.acting():
            return
        if isinstance(event, CallArrived):
            if event.source == CALLBACK_SOURCE:
                acd_call = self.gateway.acd.calls.get(event.call_id)
                if event.call_id not in self.gateway.calls and acd_call is not None:
                    self.adopt(acd_call)
                else:
                    self.book.placed(event.call_id)
            return
        if isinstance(event, CallEnded | CallAbandoned) and event.call_id in self.book.open:
            self.dials.pop(event.call_id, None)
            if isinstance(event, CallEnded):
                self.book.finish(event.call_id, Outcome.NO_ANSWER if event.disposition == FAILED else Outcome.REACHED)
            else:
                self.book.finish(event.call_id, Outcome.CANCELLED)

    # -- the agent's leg ---------------------------------------------------------------------------

    def leg_document(self, call: TwilioCall, pause: int = 0) -> str:
        """The TwiML of the agent's leg: dial the customer (again after `pause` seconds)."""
        g = self.gateway
        s = g.settings
        return render_callback_leg(
            customer=call.callback_number, caller_id=s.callback_from or call.dialed, language=call.language,
            recording_url=s.url("recording", call=call.sid) if s.record else None, settings=s,
            action_url=s.url("callback-dial", call=call.sid), pause=pause,
        )

    def new_leg(self, sid: str) -> None:
        self.dials[sid] = Dials()

    def dial_ended(self, sid: str, dial_status: str) -> str:
        """The <Dial> of the customer ended (its action): reached, or dial again, or give up
        (the agent's leg then ends, and the callback with it)."""
        g = self.gateway
        call = g.calls.get(sid)
        dials = self.dials.setdefault(sid, Dials())
        dials.tries += 1
        if dial_status in REACHED_STATUSES:
            dials.reached = True
            log.info("twilio callback %s: the customer answered", sid)
            return render_hangup([], g.settings)
        if call is None or dials.reached or dials.tries >= g.settings.callback_attempts:
            if call is not None:
                log.warning("twilio callback %s: customer %s not reached after %d attempt(s)", sid,
                            mask_phone(call.callback_number), dials.tries)
            return render_hangup([], g.settings)
        log.info("twilio callback %s: attempt %d: %s; dialling again", sid, dials.tries, dial_status)
        return self.leg_document(call, pause=g.settings.callback_retry_delay)

    def disposition(self, sid: str) -> str:
        """How a callback's talk ends: "" when the customer was reached, else `callback_failed`."""
        dials = self.dials.get(sid)
        return FAILED if dials is not None and dials.tries and not dials.reached else ""
