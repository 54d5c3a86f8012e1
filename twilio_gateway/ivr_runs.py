"""The IVR part of a Twilio call: the IVR run on the call's channel, a rerun from one of
the menu's entries (the survey after the agent, a callback offer while waiting), and the
IVR's transfer, which puts the caller in an ACD queue (or takes a callback)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.call import CallState
from acd.errors import AcdError
from ivr.channel import Prompt, TransferRequest
from ivr.events import IvrEvent, IvrOutcome, OutcomeKind
from twilio_gateway.call import Phase, TwilioCall
from twilio_gateway.callback import CALLBACK_SOURCE
from twilio_gateway.channel import TwilioChannel
from twilio_gateway.twiml import render_hangup

if TYPE_CHECKING:
    from twilio_gateway.gateway import TwilioGateway

log = logging.getLogger("hotline.twilio")


class IvrRuns:
    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway

    async def run(self, call: TwilioCall, start: str | None = None) -> None:
        channel = call.channel
        try:
            outcome = await self.gateway.ivr(channel, self.on_event, start)
        except Exception:
            log.exception("twilio call %s: the IVR failed", call.sid)
            outcome = None
            # the interpreter reported no outcome: close the IVR part in the case store
            self.on_event(IvrOutcome(
                self.gateway.clock.now(), call.sid, "", 0, OutcomeKind.FAILED, "", reason="ivr_error"
            ))
        call.outcome = outcome
        if not channel.finished:
            said = channel.pending_prompts()
            if outcome is None or outcome.kind is OutcomeKind.FAILED:
                said += self.gateway._sorry(channel.language)
            channel.finish_with(render_hangup(said, self.gateway.settings))
        if call.phase is Phase.IVR and self.gateway.calls.get(call.sid) is call and call.channel is channel:
            self.gateway._forget(call)  # the IVR ended the call (or the caller left): nothing follows
            acd_call = self.gateway.acd.calls.get(call.sid)
            if acd_call is not None and acd_call.state in (CallState.QUEUED, CallState.RINGING):
                self.gateway.ops.abandon(call.sid, "caller_hangup")  # left during a callback offer

    async def survey(self, call: TwilioCall, entry: str) -> str:
        """After the agent: the menu's survey entry on a fresh channel (same call and language)."""
        return await self.rerun(call, entry).next_document()

    def rerun(self, call: TwilioCall, entry: str) -> TwilioChannel:
        """Run the IVR again from `entry` on a fresh channel (same call and language)."""
        channel = TwilioChannel(
            call.sid,
            caller=call.caller or None,
            dialed=call.dialed or None,
            settings=self.gateway.settings,
            clock=self.gateway.clock,
            on_transfer=self.transfer,
            language=call.language,
            speech_languages=self.gateway.speech_languages,
        )
        call.channel = channel
        call.phase = Phase.IVR
        self.gateway._disarm_hold(call)
        call.task = self.gateway._spawn(self.run(call, entry), entry, call.sid, work=False)
        return channel

    def on_event(self, event: IvrEvent) -> None:
        if self.gateway.recorder is not None:
            self.gateway.recorder.on_ivr_event(event)
        if self.gateway.on_ivr_event is not None:
            self.gateway.on_ivr_event(event)

    async def transfer(
        self, channel: TwilioChannel, request: TransferRequest, prompts: list[Prompt]
    ) -> str:
        call = self.gateway.calls[channel.call_id]
        call.language = request.language or channel.language
        if call.sid in self.gateway.acd.calls:  # answering a callback offer: the call keeps its place
            if request.callback_number:
                return self.gateway.callbacks.offered(call, request.callback_number, prompts)
            call.phase = Phase.WAITING
            self.gateway._arm_hold(call)
            return self.gateway._hold_document(call, prompts)
        if request.callback_number and self.gateway.acting():  # hours, order, merging: callback.py
            return self.gateway.callbacks.take(call, request, prompts)
        call.in_transfer = True
        try:
            await self.gateway.ops.arrive(
                call.sid,
                request.queue,
                caller=request.callback_number or call.caller,
                language=call.language,
                priority=request.priority,
                tier=request.tier,
                skills=request.skills,
                source=CALLBACK_SOURCE if request.callback_number else "twilio",  # a follower's
                dialed=call.dialed,
            )
        except AcdError as exc:
            log.error("twilio call %s: cannot enqueue in %s: %s", call.sid, request.queue, exc)
            call.phase = Phase.OVER
            return render_hangup([*prompts, *self.gateway._sorry(call.language)], self.gateway.settings)
        finally:
            call.in_transfer = False
        if request.callback_number:
            call.phase = Phase.CALLBACK
            call.callback_number = request.callback_number
            return render_hangup(prompts, self.gateway.settings)
        call.phase = Phase.WAITING
        acd_call = self.gateway.acd.calls.get(call.sid)
        if not self.gateway.acting() and acd_call is not None and acd_call.state is not CallState.QUEUED:
            # queued on the leader, and an agent assigned at once: the leader's gateway dials
            # over REST; this node only answers the hold TwiML the REST update replaces
            held = self.gateway._hold_document(call, prompts)
            self.gateway._forget(call)
            return held
        self.gateway._arm_hold(call)
        if acd_call is not None and acd_call.state is CallState.RINGING:
            document = self.gateway._dial_document(call, acd_call.agent_id, prompts)
            if document is not None:
                return document
        return self.gateway._hold_document(call, prompts)
