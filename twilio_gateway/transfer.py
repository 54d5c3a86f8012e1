"""Transfers on Twilio (the gateway's part of acd/transfer.py), Dial-based like the rest of
the gateway: a REST update of the caller's live call replaces its current <Dial> (Twilio
hangs up the former agent's leg).

- Blind to an agent: the core offers the call (`call_assigned`), the gateway's usual REST
  update dials that agent; the call is waiting again meanwhile (a ring-no-answer puts the
  caller back on hold at their place).
- Blind to a queue: the hold loop (position, music) when nobody is free.
- Blind to a number: <Dial> of the number (caller id `callback_from` or the dialled number);
  Hotline is then done with the call.
- Consultations, conferences, listen/whisper/barge: the call moves into a Twilio Conference
  (twilio_gateway/conference.py); attended and conference hand-overs are done there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from twilio.twiml.voice_response import Dial, VoiceResponse

from acd.call import CallState
from acd.events import CallTransferred, Event
from hotline.privacy import mask_phone
from twilio_gateway.call import Phase, TwilioCall
from twilio_gateway.settings import TwilioSettings

if TYPE_CHECKING:
    from twilio_gateway.gateway import TwilioGateway

log = logging.getLogger("hotline.twilio")


def render_transfer_out(number: str, caller_id: str | None, settings: TwilioSettings) -> str:
    """The caller's call handed to an outside number."""
    response = VoiceResponse()
    dial = Dial(caller_id=caller_id, timeout=max(settings.ring_timeout, 30)) if caller_id else Dial(
        timeout=max(settings.ring_timeout, 30))
    dial.number(number)
    response.append(dial)
    return str(response)


class TwilioTransfers:
    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway

    def on_acd_event(self, event: Event, call: TwilioCall) -> bool:
        if isinstance(event, CallTransferred):
            self._transferred(event, call)
            return True
        return False

    def _transferred(self, event: CallTransferred, call: TwilioCall) -> None:
        gateway = self.gateway
        if event.mode != "blind":
            return
        if event.target_kind == "number":
            caller_id = gateway.settings.callback_from or call.dialed or None
            document = render_transfer_out(event.target, caller_id, gateway.settings)
            gateway._forget(call)
            gateway._spawn(gateway.decisions.update(call, document), "transfer", call.sid)
            log.info("twilio call %s: blind transfer from %s to %s", call.sid, event.agent_id, mask_phone(event.target))
            return
        call.phase = Phase.WAITING  # ringing the next agent, or waiting in the queue
        acd_call = gateway.acd.calls.get(call.sid)
        if acd_call is not None and acd_call.state is CallState.QUEUED:
            gateway._arm_hold(call)
            gateway._spawn(gateway.decisions.update(call, gateway._hold_document(call, [])), "transfer", call.sid)
        log.info("twilio call %s: blind transfer from %s to %s %s", call.sid, event.agent_id, event.target_kind,
                 event.target)
