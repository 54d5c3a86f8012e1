"""Follow-up calls on Asterisk (issue 15): the agent who took the task, then the customer.

A follow-up is a callback reserved for the agent who took its task (acd/targeted.py): it
enters the ACD with that agent as its target (source `asterisk-callback`, so a restart
treats it as a callback), never through the queue's `CallbackBook` (the agent asked for it
now: no callback hours, no merging with an IVR callback of the same number). When the core
offers it to the agent, `asterisk.callback.Callbacks` does the rest exactly as for a queue
callback: an Async `Originate` of the agent's endpoint into the callback context (the phone shows
`"Follow-up" <number>`), the
customer dialled by the dialplan once the agent answers (`callback_attempts`), the leg's
events driving the core. When the call is over its outcome (acd/follow_up.py) goes to every
hook: from the customer attempts' `DialStatus` when the call ended, `released` when it left
the ACD before reaching the agent (the agent logged out, the wait was over).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from acd.events import CallAbandoned, CallEnded, Event
from acd.follow_up import FollowUpOutcome, from_dial_statuses
from acd.targeted import TargetedCalls
from asterisk.callback import CALLBACK_SOURCE, FAILED, CallbackCall, Callbacks
from asterisk.errors import CallControlError
from asterisk.settings import valid_callback_number
from hotline.privacy import mask_phone

log = logging.getLogger("hotline.asterisk.follow_up")

OutcomeHook = Callable[[str, FollowUpOutcome], None]
FOLLOW_UP_PREFIX = "followup-"  # call ids of follow-ups (hotline/service_process/follow_up_calls.py)


class AsteriskFollowUps:
    source = CALLBACK_SOURCE

    def __init__(self, callbacks: Callbacks, targeted: TargetedCalls) -> None:
        self.callbacks = callbacks
        self.targeted = targeted
        self.calls: dict[str, CallbackCall] = {}  # follow-ups in the ACD, by call id
        self.hooks: list[OutcomeHook] = []
        self.unsubscribe = callbacks.acd.subscribe(self._on_event, kinds=(CallEnded, CallAbandoned))

    def place(self, call_id: str, queue: str, number: str, agent_id: str, *, wait: float) -> None:
        """Ring `agent_id` (now, or when they are free within `wait` seconds), then dial `number`."""
        if not valid_callback_number(number):
            raise CallControlError(f"call {call_id}: follow-up number {mask_phone(number)!r} is not dialable", call_id)
        if call_id in self.callbacks.calls:
            raise CallControlError(f"call {call_id}: a follow-up call is already placed", call_id)
        call = CallbackCall(call_id, number, label="Follow-up")  # its dial statuses: the outcome
        self.callbacks.calls[call_id] = self.calls[call_id] = call
        try:
            self.targeted.arrive(call_id, queue, agent_id, wait=wait, caller=number, source=CALLBACK_SOURCE)
        except Exception as exc:
            self.callbacks.calls.pop(call_id, None)
            self.calls.pop(call_id, None)
            raise CallControlError(f"cannot place follow-up {call_id} for agent {agent_id}: {exc}", call_id) from exc
        log.info("call %s: follow-up to %s for agent %s (%s)", call_id, mask_phone(number), agent_id,
                 "ringing" if self.callbacks.acd.calls[call_id].agent_id else "waiting for the agent")

    def add_outcome_hook(self, hook: OutcomeHook) -> None:
        self.hooks.append(hook)

    def close(self) -> None:
        self.unsubscribe()
        self.targeted.unsubscribe()

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, CallEnded | CallAbandoned):
            return
        call = self.calls.pop(event.call_id, None)
        if call is None and not event.call_id.startswith(FOLLOW_UP_PREFIX):
            return
        # a follow-up from before a restart (its attempts unknown): not reached is `failed`
        statuses = call.statuses if call is not None else []
        if isinstance(event, CallEnded):
            outcome = FollowUpOutcome.REACHED if event.disposition != FAILED else from_dial_statuses(statuses)
        else:
            outcome = FollowUpOutcome.RELEASED
        log.info("call %s: follow-up %s", event.call_id, outcome.value)
        for hook in self.hooks:
            try:
                hook(event.call_id, outcome)
            except Exception:
                log.exception("call %s: follow-up outcome hook failed", event.call_id)
