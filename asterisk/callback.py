"""IVR callbacks on Asterisk: agent first, then the customer.

A caller who accepts a callback hangs up and keeps their place as a virtual ACD call (caller =
the callback number, source `asterisk`). When the core assigns an agent, Hotline sends an
Async `Originate` of the agent's phone (showing the customer's number) into the callback
context with our own `ChannelId` (`<call id>-cb<n>`); once the agent answers, the dialplan
starts MixMonitor and dials the customer through `asterisk.callback_dial`, retrying on no
answer or busy (`callback_attempts`, `callback_retry_delay`); the agent stays on the line.

Events of the agent leg (asterisk/events.py, dispatched here by `CallControl`):
- `OriginateResponse` Success: the agent answered -> `acd.answer` (the core's ring timer must
  stop now: dialling the customer can take longer than any ring timeout);
- `OriginateResponse` Failure, or the leg hanging up before that -> `acd.ring_no_answer`
  (the callback keeps its place; the agent follows the ring-no-answer rule);
- `DialEnd` on the leg: the customer answered, or one attempt failed;
- `Hangup` of an answered leg -> `acd.end`, with disposition `callback_failed` when the
  customer was never reached (attempts used up, or the agent hung up first).
The core's ring timer firing first -> `Hangup` of the leg by its id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acd.call import CallState
from acd.callbacks import CallbackBook, Outcome, Request
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import CallAbandoned, CallArrived, CallAssigned, CallEnded, CallRingNoAnswer, Event
from acd.held import AcdKeeper, LivePolicies
from asterisk.ami_parser import AmiMessage
from asterisk.errors import AmiActionError, AmiError, CallControlError
from asterisk.settings import AsteriskSettings, valid_callback_number
from hotline.privacy import mask_phone

if TYPE_CHECKING:
    from asterisk.control import ActionSender

log = logging.getLogger("hotline.asterisk.callback")

# The ACD source of a callback (a place kept with no caller channel): what tells a callback
# restored from the journal or the leader's snapshot apart from a caller who hung up.
CALLBACK_SOURCE = "asterisk-callback"
FAILED = "callback_failed"  # disposition (and case-store outcome) of a customer never reached
CANCELLED = "callback_cancelled"  # abandon reason of a callback the customer called off
CUSTOMER_FAILURES = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"})


@dataclass
class CallbackCall:
    call_id: str  # the original caller channel's Uniqueid: one record from IVR to the end
    number: str  # the customer's number
    dialed: str = ""
    agent_id: str = ""
    leg: str = ""  # ChannelId/Uniqueid of the current agent leg, "" when none rings or talks
    leg_name: str = ""  # the leg's channel name once Asterisk reported it
    legs: int = 0
    agent_up: bool = False
    customer_up: bool = False
    attempts: int = 0  # customer dial attempts seen (DialBegin)
    failures: int = 0  # attempts that ended NOANSWER/BUSY/CHANUNAVAIL/CONGESTION
    statuses: list[str] = field(default_factory=list)  # DialStatus of each attempt of this leg
    ring_failed_in_asterisk: bool = False
    recording: Path | None = None
    label: str = "Callback"  # the name the agent's phone shows beside the customer's number


Spawn = Callable[[str, Coroutine[Any, Any, None]], None]
Closed = Callable[[CallbackCall], None]
Recorded = Callable[[str, Path], None]


class Callbacks:
    """The callback calls of one `CallControl`: core decisions -> Originate/Hangup, leg events -> core."""

    def __init__(
        self, acd: Acd, settings: AsteriskSettings, ami: ActionSender, *, spawn: Spawn,
        on_closed: Closed | None = None, on_recording: Recorded | None = None,
    ) -> None:
        self.acd = acd
        self.settings = settings
        self.ami = ami
        self._spawn = spawn
        self.on_closed = on_closed
        self.on_recording = on_recording
        self.calls: dict[str, CallbackCall] = {}
        self._by_leg: dict[str, CallbackCall] = {}
        # Requests not due yet are held in the ACD's own state (acd/held.py: journal,
        # snapshot, replicas) and placed by its timer: they survive a restart or failover.
        self.book = CallbackBook(acd.clock.now, LivePolicies(acd), self._place, keeper=AcdKeeper(acd))

    # -- the IVR hands a callback over --------------------------------------------------------

    def arrive(
        self, call_id: str, queue: str, number: str, *, dialed: str = "", language: str = "",
        priority: int = 0, tier: str = "regular", skills: dict[str, int] | None = None,
        arrived_at: float | None = None, slot: tuple[float, float] | None = None,
    ) -> CallbackCall:
        """Keep the caller's place in `queue` as a callback to `number` (the caller hangs up).
        The request goes through the queue's `CallbackBook` (acd/callbacks.py): placed in the
        ACD now when the queue's callback hours are open (and the slot, if any, has begun),
        else at the next opening, in arrival order; a second request from the same number
        is merged into the first (the callback returned is the first one's)."""
        if not valid_callback_number(number):
            raise CallControlError(f"call {call_id}: callback number {mask_phone(number)!r} is not dialable",
                                   call_id)
        if queue not in self.acd.queues:
            raise CallControlError(f"cannot queue callback {call_id}: unknown queue {queue!r}", call_id)
        self.calls.setdefault(call_id, CallbackCall(call_id, number, dialed=dialed))
        try:
            request = self.book.request(call_id, queue, number, arrived_at=arrived_at, slot=slot, dialed=dialed,
                                        language=language, priority=priority, tier=tier, skills=skills,
                                        source=CALLBACK_SOURCE)
        except (AcdError, ValueError) as exc:
            self.calls.pop(call_id, None)
            raise CallControlError(f"cannot queue callback {call_id}: {exc}", call_id) from exc
        if request.call_id != call_id:
            self.calls.pop(call_id, None)
            log.info("call %s: callback to %s merged into %s", call_id, mask_phone(number), request.call_id)
            return self.calls.setdefault(request.call_id, CallbackCall(request.call_id, number, dialed=dialed))
        if not request.placed:
            log.info("call %s: callback to %s kept for %s (outside its hours or slot)", call_id,
                     mask_phone(number), queue)
        return self.calls[call_id]

    def on_arrived(self, event: CallArrived) -> bool:
        """A callback entered the ACD (placed here, by the ACD's timer when it was held, or by
        another node): keep it. False when the arrival is not a callback's."""
        if event.source != CALLBACK_SOURCE:
            return False
        self.book.placed(event.call_id)
        if event.call_id not in self.calls:
            self.calls[event.call_id] = CallbackCall(event.call_id, event.caller, dialed=event.dialed)
            log.info("call %s: callback to %s queued in %s", event.call_id, mask_phone(event.caller), event.queue)
        return True

    def _place(self, request: Request) -> None:
        """The book says the request is due: it enters the ACD, its wait counted from its
        first arrival."""
        d = request.details
        skills = d.get("skills")
        call_id = request.call_id
        self.calls.setdefault(call_id, CallbackCall(call_id, request.number, dialed=str(d.get("dialed", ""))))
        try:
            self.acd.arrive(call_id, request.queue, caller=request.number, language=str(d.get("language", "")),
                            priority=int(str(d.get("priority", 0) or 0)), tier=str(d.get("tier", "regular")),
                            skills=skills if isinstance(skills, dict) else None, source=CALLBACK_SOURCE,
                            dialed=str(d.get("dialed", "")), waited=self.acd.clock.now() - request.arrived_at)
        except AcdError:
            self.calls.pop(call_id, None)
            raise
        log.info("call %s: callback to %s waits in %s", call_id, mask_phone(request.number), request.queue)

    def add_outcome_hook(self, hook: Callable[[Request], None]) -> None:
        """`hook(request)` once each callback is over (reached, no answer, cancelled); a
        hook that fails is logged, never stops the call's handling."""

        def guarded(request: Request) -> None:
            try:
                hook(request)
            except Exception:
                log.exception("call %s: callback outcome hook failed", request.call_id)

        self.book.hooks.append(guarded)

    def cancel(self, queue: str, number: str) -> bool:
        """The customer does not want the callback any more: kept ones are dropped, one in
        the ACD leaves it (`callback_cancelled`; an agent leg ringing for it is hung up)."""
        request = self.book.cancel(queue, number)
        if request is None:
            return False
        acd_call = self.acd.calls.get(request.call_id)
        if acd_call is not None and acd_call.state in (CallState.QUEUED, CallState.RINGING):
            self.acd.abandon(request.call_id, reason=CANCELLED)
        else:
            self.calls.pop(request.call_id, None)
        return True

    def readopt(self, call_id: str, live: dict[str, AmiMessage]) -> CallbackCall:
        """A callback the ACD has from before a restart (journal, snapshot) that this process
        never saw: keep it, with its agent leg when one is still up in Asterisk; `resync` then
        settles a leg that ended meanwhile (ringing: back to its place; talking: ended)."""
        acd_call = self.acd.calls[call_id]
        call = self.calls[call_id] = CallbackCall(call_id, acd_call.caller, dialed=acd_call.dialed)
        if call_id not in self.book.open:
            self.book.adopt(Request(call_id, acd_call.queue, acd_call.caller, acd_call.arrived_at,
                                    acd_call.arrived_at, placed=True, attempts=1))
        if acd_call.state in (CallState.RINGING, CallState.ON_CALL):
            call.agent_id = acd_call.agent_id or ""
            call.agent_up = acd_call.state is CallState.ON_CALL
            legs = [u for u in live if u.startswith(f"{call_id}-cb") and u[len(call_id) + 3:].isdigit()]
            leg = max(legs, key=lambda u: int(u[len(call_id) + 3:]), default=f"{call_id}-cb0")
            call.legs = int(leg[len(call_id) + 3:])
            call.leg = leg
            call.leg_name = live[leg].get("Channel") if leg in live else ""
            self._by_leg[leg] = call
        log.info("resync: callback %s to %s taken back from before the restart (%s)", call_id,
                 mask_phone(call.number), acd_call.state.value)
        return call

    def leg(self, uniqueid: str) -> CallbackCall | None:
        return self._by_leg.get(uniqueid)

    # -- core events -> AMI actions ----------------------------------------------------------

    def on_acd_event(self, event: Event) -> bool:
        """Handle a call event of a callback call; False when it is not one (agent events carry
        a call id too: those stay with `CallControl`)."""
        if not isinstance(event, CallAssigned | CallRingNoAnswer | CallAbandoned | CallEnded):
            return False
        call = self.calls.get(event.call_id)
        if call is None:
            return False
        if isinstance(event, CallAssigned):
            self._drop_leg(call)
            call.legs += 1
            call.agent_id = event.agent_id
            call.leg = f"{call.call_id}-cb{call.legs}"
            call.leg_name = ""
            call.agent_up = call.customer_up = call.ring_failed_in_asterisk = False
            call.attempts = call.failures = 0
            call.statuses = []
            self._by_leg[call.leg] = call
            self._spawn(call.call_id, self._originate(call, call.leg, event.agent_id))
        elif isinstance(event, CallRingNoAnswer):
            leg = call.leg
            if leg and not call.ring_failed_in_asterisk:  # the core's timer: stop the ringing
                self._spawn(call.call_id, self._hangup(call.call_id, leg))
            self._drop_leg(call)
        elif isinstance(event, CallAbandoned | CallEnded):
            self.calls.pop(call.call_id, None)
            if isinstance(event, CallEnded):
                self.book.finish(call.call_id, Outcome.NO_ANSWER if event.disposition == FAILED else Outcome.REACHED)
            else:
                self.book.finish(call.call_id, Outcome.CANCELLED)
            leg = call.leg
            self._drop_leg(call)
            if leg and isinstance(event, CallAbandoned):
                self._spawn(call.call_id, self._hangup(call.call_id, leg))
        return True

    def _drop_leg(self, call: CallbackCall) -> None:
        if call.leg:
            self._by_leg.pop(call.leg, None)
        call.leg = ""

    async def _originate(self, call: CallbackCall, leg: str, agent_id: str) -> None:
        if call.leg != leg or self.calls.get(call.call_id) is not call:
            return  # superseded while waiting for the lock
        s = self.settings
        variables = [
            f"HOTLINE_CALL={call.call_id}",
            f"HOTLINE_CB_DIAL={s.callback_dial_string(call.number)}",
            f"HOTLINE_CB_TIMEOUT={round(s.callback_ring_timeout)}",
            f"HOTLINE_CB_ATTEMPTS={s.callback_attempts}",
            f"HOTLINE_CB_DELAY={round(s.callback_retry_delay)}",
            f"HOTLINE_CB_CID={s.callback_cid()}",
        ]
        fields: dict[str, str | list[str]] = {
            "Channel": s.endpoint(agent_id),
            "Context": s.contexts.callback,
            "Exten": "s",
            "Priority": "1",
            "CallerID": f'"{call.label}" <{call.number}>',  # what the agent's phone shows
            "Timeout": str(round(s.ring_timeout * 1000)),
            "Async": "true",
            "ChannelId": leg,
            "Variable": variables,
        }
        try:
            await self.ami.action("Originate", fields)
            log.info("call %s: callback, ringing agent %s (%s)", call.call_id, agent_id, s.endpoint(agent_id))
        except AmiActionError as exc:
            log.error("call %s: Originate to agent %s refused: %s", call.call_id, agent_id, exc)
            self._agent_failed(call, leg)
        except AmiError as exc:
            # The core's ring timer takes the callback back (and hangs up the leg if it exists).
            log.error("call %s: cannot ring agent %s for a callback: %s", call.call_id, agent_id, exc)

    async def _hangup(self, call_id: str, leg: str) -> None:
        try:
            await self.ami.action("Hangup", {"Channel": leg, "Cause": "16"})  # by Uniqueid
        except AmiActionError as exc:
            log.info("call %s: callback leg %s already gone (%s)", call_id, leg, exc.message)
        except AmiError as exc:
            log.warning("call %s: cannot hang up callback leg %s: %s", call_id, leg, exc)

    # -- AMI events of the agent leg -> core ----------------------------------------------------

    def on_originate_response(self, msg: AmiMessage) -> None:
        uniqueid = msg.get("Uniqueid")
        call = self._by_leg.get(uniqueid)
        if call is None and uniqueid in ("", "<unknown>"):  # failed before any channel existed
            channel = msg.get("Channel")
            call = next(
                (c for c in self._by_leg.values()
                 if not c.agent_up and self.settings.endpoint(c.agent_id) == channel),
                None,
            )
        if call is None:
            return  # a leg already given up (the core's ring timer), or not a callback
        if msg.get("Response") == "Success":
            self.agent_answered(call, msg.get("Channel"))
        else:
            log.info("call %s: agent %s did not answer the callback (reason %s)", call.call_id, call.agent_id,
                     msg.get("Reason"))
            self._agent_failed(call, call.leg)

    def agent_answered(self, call: CallbackCall, channel: str) -> None:
        leg = call.leg
        if call.agent_up or not leg:
            return
        call.leg_name = channel
        call.agent_up = True
        acd_call = self.acd.calls.get(call.call_id)
        if acd_call is not None and acd_call.state is CallState.RINGING and acd_call.agent_id == call.agent_id:
            self.acd.answer(call.call_id)
            log.info("call %s: agent %s answered the callback; dialling %s", call.call_id, call.agent_id,
                     mask_phone(call.number))
        else:
            log.warning("call %s: agent answered a callback the core took back; hanging up", call.call_id)
            self._drop_leg(call)
            self._spawn(call.call_id, self._hangup(call.call_id, leg))

    def resync(self, live: dict[str, AmiMessage]) -> None:
        """After an AMI outage: legs that ended, were answered or reached the customer meanwhile."""
        for call in list(self.calls.values()):
            if not call.leg:
                continue
            item = live.get(call.leg)
            if item is None:
                log.info("resync: callback %s: agent leg ended while AMI was down", call.call_id)
                self.leg_gone(call, call.leg)
                continue
            if not call.agent_up and item.get("ChannelState") == "6":
                log.info("resync: callback %s: agent answered while AMI was down", call.call_id)
                self.agent_answered(call, item.get("Channel"))
            if call.agent_up and item.get("BridgeId"):
                call.customer_up = True  # bridged: only the customer's leg can be on the other side

    def _agent_failed(self, call: CallbackCall, leg: str) -> None:
        if call.leg != leg or call.agent_up:
            return
        acd_call = self.acd.calls.get(call.call_id)
        if acd_call is not None and acd_call.state is CallState.RINGING and acd_call.agent_id == call.agent_id:
            call.ring_failed_in_asterisk = True
            self.acd.ring_no_answer(call.call_id)

    def on_dial_begin(self, call: CallbackCall, msg: AmiMessage) -> None:
        call.attempts += 1
        log.info("call %s: callback attempt %d of %d", call.call_id, call.attempts, self.settings.callback_attempts)

    def on_dial_end(self, call: CallbackCall, msg: AmiMessage) -> None:
        status = msg.get("DialStatus")
        call.statuses.append(status)
        if status == "ANSWER":
            call.customer_up = True
            log.info("call %s: customer answered the callback", call.call_id)
        elif status in CUSTOMER_FAILURES:
            call.failures += 1
            log.info("call %s: callback attempt %d: %s", call.call_id, call.failures, status)

    def on_mixmonitor_start(self, call: CallbackCall) -> None:
        if call.recording is not None:
            return
        call.recording = self.settings.recording_path(call.call_id)
        if self.on_recording is not None:
            try:
                self.on_recording(call.call_id, call.recording)
            except Exception:
                log.exception("call %s: recording hook failed", call.call_id)

    def on_hangup(self, call: CallbackCall, msg: AmiMessage) -> None:
        self.leg_gone(call, msg.get("Uniqueid"))

    def leg_gone(self, call: CallbackCall, leg: str) -> None:
        if leg != call.leg:
            return
        if not call.agent_up:
            self._agent_failed(call, leg)  # OriginateResponse Failure may follow: ignored then
            self._drop_leg(call)
            return
        acd_call = self.acd.calls.get(call.call_id)
        self._drop_leg(call)
        if acd_call is None or acd_call.state is not CallState.ON_CALL:
            return
        if call.customer_up:
            self.acd.end(call.call_id)
        else:
            log.warning("call %s: callback failed: customer %s not reached after %d attempt(s)", call.call_id,
                        mask_phone(call.number), call.attempts)
            self.acd.end(call.call_id, disposition=FAILED)
        if self.on_closed is not None:
            try:
                self.on_closed(call)
            except Exception:
                log.exception("call %s: close hook failed", call.call_id)
