"""The ACD's decisions about Twilio calls carried out: dial the agent the call was assigned
to (REST update to a <Dial>), ring the agent of a callback first, stop a <Dial> whose ring
timer fired, offer a callback to a waiting caller, tell a caller the ACD gave up on."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.call import CallState
from acd.events import CallAbandoned, CallAssigned, CallbackOffered, CallRingNoAnswer, Event
from twilio_gateway.call import Phase, TwilioCall
from twilio_gateway.errors import TwilioApiError
from twilio_gateway.twiml import render_hangup

if TYPE_CHECKING:
    from twilio_gateway.gateway import TwilioGateway

log = logging.getLogger("hotline.twilio")


class AcdDecisions:
    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway

    def on_acd_event(self, event: Event) -> None:
        call = self.gateway.calls.get(getattr(event, "call_id", ""))
        if not self.gateway.acting():  # a follower's replica: the leader's gateway dials the agent
            if isinstance(event, CallAssigned) and call is not None and call.phase is Phase.WAITING:
                log.info("twilio call %s: the leader dials agent %s; its webhooks go there now", call.sid,
                         event.agent_id)
                self.gateway._forget(call)
                return
            if not isinstance(event, CallAbandoned | CallbackOffered):
                return
        call = self.gateway.calls.get(getattr(event, "call_id", ""))
        if call is None and isinstance(event, CallAssigned):
            # a call restored from the journal (or taken over from a dead leader) that no
            # webhook has brought back yet: its caller is on hold at Twilio, dial the agent now
            call = self.gateway._adopt(event.call_id)
        if call is None or self.gateway.transfers.on_acd_event(event, call):
            return
        if isinstance(event, CallAssigned):
            call.agent_id = event.agent_id
            if call.phase is Phase.IVR and not call.in_transfer:
                # an agent came free during a callback offer: the offer is over
                call.phase = Phase.WAITING
                call.channel.caller_gone("an agent took the call during the callback offer")
            if call.phase is Phase.CALLBACK:
                self.gateway._spawn(self.call_back(call, event.agent_id), "callback", call.sid)
            elif not call.in_transfer:
                self.gateway._spawn(self.connect(call, event.agent_id), "connect", call.sid)
            elif self.gateway.settings.agents.get(event.agent_id) is None:
                self.no_target(call, event.agent_id)
        elif isinstance(event, CallRingNoAnswer):
            if call.phase is Phase.CALLBACK and call.callback_leg:
                leg, call.callback_leg = call.callback_leg, ""  # stop ringing the agent
                self.gateway._spawn(self.gateway._hangup_leg(call.sid, leg), "callback-cancel", call.sid)
            elif call.phase is Phase.WAITING and not call.dial_answered:
                # The ACD's ring timer fired: stop the <Dial>, back to the hold loop.
                document = self.gateway._hold_document(call, [])
                self.gateway._spawn(self.update(call, document), "unring", call.sid)
        elif isinstance(event, CallbackOffered):
            entry = self.gateway.settings.callback_entry
            if call.phase is Phase.WAITING and entry and self.gateway.ivr.has_entry(call.channel, entry):
                self.gateway.ivr_runs.rerun(call, entry)  # the offer is asked when the call comes to `resume`
                url = self.gateway.settings.url("resume", call=call.sid)
                self.gateway._spawn(self.gateway._redirect(call.sid, url), "offer", call.sid)
        elif isinstance(event, CallAbandoned) and event.reason != "caller_hangup":
            # The ACD gave up (max wait without overflow): tell the caller and hang up.
            live = call.phase is not Phase.CALLBACK
            self.gateway._forget(call)
            if live:
                document = render_hangup(self.gateway._sorry(call.language), self.gateway.settings)
                self.gateway._spawn(self.update(call, document), "giveup", call.sid)

    def no_target(self, call: TwilioCall, agent_id: str) -> None:
        log.error("twilio: agent %s has no SIP URI / client identity in twilio.agents", agent_id)
        self.gateway._spawn(self.ring_failed_later(call.sid, agent_id), "no-target", call.sid)

    async def ring_failed_later(self, sid: str, agent_id: str) -> None:
        """Settled after `Acd.arrive` has returned (not from inside its event dispatch)."""
        self.ring_failed(sid, agent_id)

    def ring_failed(self, sid: str, agent_id: str) -> None:
        acd_call = self.gateway.acd.calls.get(sid)
        if acd_call is not None and acd_call.state is CallState.RINGING and acd_call.agent_id == agent_id:
            self.gateway.ops.ring_no_answer(sid)

    async def connect(self, call: TwilioCall, agent_id: str) -> None:
        document = self.gateway._dial_document(call, agent_id, [])
        if document is None:
            self.ring_failed(call.sid, agent_id)
            return
        try:
            await self.gateway.rest.update_twiml(call.sid, document)
        except TwilioApiError as exc:
            log.error("twilio call %s: connecting agent %s failed: %s", call.sid, agent_id, exc)
            if exc.status == 404:  # the call is not live any more: the caller is gone
                self.gateway._caller_gone(call, "not-found")
            else:
                self.ring_failed(call.sid, agent_id)

    async def update(self, call: TwilioCall, document: str) -> None:
        try:
            await self.gateway.rest.update_twiml(call.sid, document)
        except TwilioApiError as exc:
            log.warning("twilio call %s: update failed: %s", call.sid, exc)

    async def call_back(self, call: TwilioCall, agent_id: str) -> None:
        """Callback: ring the agent first; once they answer, Twilio dials the customer."""
        target = self.gateway.settings.agents.get(agent_id)
        if target is None:
            self.ring_failed(call.sid, agent_id)
            return
        caller_id = self.gateway.settings.callback_from or call.dialed
        document = self.gateway.callbacks.leg_document(call)
        self.gateway.callbacks.new_leg(call.sid)
        to = target.address if target.kind == "sip" else f"client:{target.address}"
        try:
            call.callback_leg = await self.gateway.rest.create(
                to=to,
                from_=caller_id,
                twiml=document,
                status_callback=self.gateway.settings.url("callback", call=call.sid),
                events=("answered", "completed"),
            )
        except TwilioApiError as exc:
            log.error("twilio callback %s: calling agent %s failed: %s", call.sid, agent_id, exc)
            self.ring_failed(call.sid, agent_id)
