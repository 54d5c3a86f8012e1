"""Transfers, consultations, conferences and supervisors on Asterisk (the core's decisions of
`acd/transfer.py` as AMI actions, the legs' AMI events back into the core).

- Blind transfer to an agent: the core offers the call to that agent (`call_assigned`), and
  the usual Redirect of the caller into the connect context rings it; Asterisk hangs up the
  former agent's leg when the caller leaves the Dial. To a queue: Redirect to hold when
  nobody is free (the caller keeps its place). To a number: Redirect into the transfer context,
  which Dials `asterisk.callback_dial` with that number; Hotline is then done with the call.
- A third party (consult or conference) needs more than the two-party bridge of Dial: the
  caller and the agent are moved together (one Redirect with ExtraChannel) into a ConfBridge
  room named after the call (conference context; the caller hears music while alone in it).
  A consult moves the agent into a second room (`consult-<call id>`, consult context) and
  Originates the third party into it (an agent's phone, or the number through
  `callback_dial`); `OriginateResponse` Success = answered. Complete: Redirect the party into
  the caller's room, hang up the agent's leg. Cancel: hang up the party's leg, Redirect the
  agent back. Merge: Redirect agent and party into the caller's room. Conference: the party is
  Originated straight into the caller's room.
- While the call is in a room, a hang-up of the agent's leg is the agent leaving (the
  conference goes on with the others, a consult completes as Asterisk's own attended
  transfer does, alone with the caller ends the call), of a party's leg the party leaving.
- Listen / whisper / barge: Originate of the supervisor's phone (`asterisk.endpoints`, default
  PJSIP/<id>) into the application ChanSpy on the agent's channel with options `qE` (quiet,
  exit when the agent's channel hangs up) plus `w` (whisper: only the agent hears) or `B`
  (barge: both hear). A mode change hangs that leg up and Originates a new one.

The caller's MixMonitor stays on the caller's channel through all of it: the recording goes on
(the room's mix once in conference; a whisper is not in it, a barge is).
Legs are Originated with our own ChannelId, so Hangup and Redirect name them by Uniqueid.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.call import CallState
from acd.errors import AcdError
from acd.events import (
    CallEnded,
    CallMonitored,
    CallMonitorEnded,
    CallTransferred,
    Event,
    PartyAdded,
    PartyJoined,
    PartyLeft,
)
from acd.transfer import AGENT, CONSULT, NUMBER, QUEUE, TALKING
from asterisk.ami_parser import AmiMessage
from asterisk.errors import AmiActionError, AmiError

if TYPE_CHECKING:
    from asterisk.control import AsteriskCall, CallControl

log = logging.getLogger("hotline.asterisk.transfer")

SPY_OPTIONS = {"listen": "qE", "whisper": "qEw", "barge": "qEB"}
_OUR_REASONS = frozenset({"left", "failed"})  # a PartyLeft Hotline reported from the leg's own events


@dataclass
class Leg:
    """A channel Hotline Originated for a call: a third party or a supervisor's phone."""

    uniqueid: str  # our ChannelId
    call_id: str
    who: str  # party id, or supervisor id
    spy: bool = False
    dial: str = ""  # what was Originated (to match an OriginateResponse without Uniqueid)
    up: bool = False
    gone: bool = False


@dataclass
class Room:
    """A call moved into its ConfBridge room: who holds it there."""

    call_id: str
    agent_id: str
    agent_leg: str  # the agent's channel, as actions name it (Uniqueid, or name)
    agent_name: str  # its channel name (what ChanSpy matches)
    consulting: bool = False  # the agent is in the consult room
    external: bool = False  # the ACD is done (handed to a number); Hotline only cleans up
    legs: dict[str, Leg] = field(default_factory=dict)  # party id -> leg


class AsteriskTransfers:
    """The transfer side of one `CallControl`."""

    def __init__(self, control: CallControl) -> None:
        self.control = control
        self.rooms: dict[str, Room] = {}
        self.legs: dict[str, Leg] = {}  # uniqueid -> leg
        self.spies: dict[tuple[str, str], Leg] = {}  # (call id, supervisor) -> leg
        self.names: dict[str, str] = {}  # uniqueid of an answered leg -> its channel name
        self._ids = itertools.count(1)

    # -- core events -> AMI ----------------------------------------------------------------

    def on_acd_event(self, event: Event) -> bool:
        """Act on a transfer event; False when it is not one."""
        if isinstance(event, CallTransferred):
            self._transferred(event)
        elif isinstance(event, PartyAdded):
            self._party_added(event)
        elif isinstance(event, PartyJoined):
            room = self.rooms.get(event.call_id)
            leg = room.legs.get(event.party) if room else None
            if room is not None and leg is not None:
                room.consulting = False
                self._redirect(event.call_id, room.agent_leg, self._main(event.call_id), extra=leg.uniqueid)
        elif isinstance(event, PartyLeft):
            self._party_left(event)
        elif isinstance(event, CallMonitored):
            self._monitor(event)
        elif isinstance(event, CallMonitorEnded):
            leg = self.spies.pop((event.call_id, event.supervisor), None)
            if leg is not None and not leg.gone:
                self._hangup(event.call_id, leg.uniqueid)
        elif isinstance(event, CallEnded):
            room = self.rooms.pop(event.call_id, None)
            if room is not None:  # nobody may stay alone in the room
                self._hangup(event.call_id, room.agent_leg)
                call = self.control.calls.get(event.call_id)
                if call is not None:
                    self._hangup(event.call_id, call.channel)
            return False
        else:
            return False
        return True

    def _transferred(self, event: CallTransferred) -> None:
        control = self.control
        call = control.calls.get(event.call_id)
        if call is None:
            return
        room = self.rooms.get(event.call_id)
        if event.mode == "blind":
            if room is not None:  # the caller leaves the room: the agent would stay alone in it
                del self.rooms[event.call_id]
                self._hangup(event.call_id, room.agent_leg)
            if event.target_kind == NUMBER:
                self._redirect(event.call_id, call.channel, (control.settings.contexts.transfer, event.target))
                self._done(call)
            elif event.target_kind == QUEUE:
                acd_call = control.acd.calls.get(event.call_id)
                if acd_call is not None and acd_call.state is CallState.QUEUED:
                    control._spawn(call.call_id, control._to_hold(call))
            log.info("call %s: blind transfer from %s to %s %s", call.call_id, event.agent_id,
                     event.target_kind, event.target if event.target_kind != NUMBER else "(number)")
            return
        if room is None:
            return
        heir = room.legs.pop(event.target if event.target_kind == AGENT else f"tel:{event.target}", None)
        old_leg, was_consulting = room.agent_leg, room.consulting
        room.consulting = False
        if heir is not None:
            self.legs.pop(heir.uniqueid, None)
            if was_consulting:  # the party is in the consult room with the agent
                self._redirect(event.call_id, heir.uniqueid, self._main(event.call_id))
        self._hangup(event.call_id, old_leg)
        if event.target_kind == AGENT and heir is not None:
            room.agent_id, room.agent_leg = event.target, heir.uniqueid
            room.agent_name = self.names.get(heir.uniqueid, heir.uniqueid)
        else:  # the caller and the outside number stay in the room; Hotline is done
            room.external = True
            room.agent_leg = heir.uniqueid if heir is not None else ""
            self._done(call)
        log.info("call %s: %s transfer from %s to %s", call.call_id, event.mode, event.agent_id,
                 event.target_kind)

    def _party_added(self, event: PartyAdded) -> None:
        control = self.control
        call = control.calls.get(event.call_id)
        if call is None:
            return
        ctx = control.settings.contexts
        room = self.rooms.get(event.call_id)
        consult = event.role == CONSULT
        if room is None:  # caller and agent into the room together (one Redirect, no hang-up)
            room = self.rooms[event.call_id] = Room(
                event.call_id, event.agent_id, call.agent_uniqueid or call.agent_channel, call.agent_channel
            )
            target = (ctx.consult if consult else ctx.conference, event.call_id)
            self._redirect(event.call_id, call.channel, self._main(event.call_id), extra=room.agent_leg,
                           extra_target=target)
        elif consult:
            self._redirect(event.call_id, room.agent_leg, (ctx.consult, event.call_id))
        room.consulting = consult
        uniqueid = f"{event.call_id}-x{next(self._ids)}"
        dial = (control.settings.endpoint(event.target) if event.target_kind == AGENT
                else control.settings.callback_dial_string(event.target))
        leg = Leg(uniqueid, event.call_id, event.party, dial=dial)
        room.legs[event.party] = leg
        self.legs[uniqueid] = leg
        fields: dict[str, str | list[str]] = {
            "Channel": dial,
            "Context": ctx.consult if consult else ctx.conference,
            "Exten": event.call_id,
            "Priority": "1",
            "CallerID": f'"Hotline" <{call.caller or control.settings.callback_cid()}>',
            "Timeout": str(round(control.settings.ring_timeout * 1000)),
            "Async": "true",
            "ChannelId": uniqueid,
            "Variable": [f"HOTLINE_CALL={event.call_id}"],
        }
        control._spawn(event.call_id, self._originate(leg, fields))

    def _party_left(self, event: PartyLeft) -> None:
        room = self.rooms.get(event.call_id)
        if room is None:
            return
        leg = room.legs.pop(event.party, None)
        if leg is not None:
            self.legs.pop(leg.uniqueid, None)
            if not leg.gone and event.reason not in _OUR_REASONS:
                self._hangup(event.call_id, leg.uniqueid)
        if room.consulting and event.reason != "call_ended":
            room.consulting = False  # the agent goes back to the caller
            self._redirect(event.call_id, room.agent_leg, self._main(event.call_id))

    def _monitor(self, event: CallMonitored) -> None:
        control = self.control
        call = control.calls.get(event.call_id)
        if call is None:
            return
        key = (event.call_id, event.supervisor)
        old = self.spies.pop(key, None)
        if old is not None and not old.gone:  # a new mode: a new ChanSpy
            old.gone = True
            self.legs.pop(old.uniqueid, None)
            self._hangup(event.call_id, old.uniqueid)
        room = self.rooms.get(event.call_id)
        spied = room.agent_name if room is not None else call.agent_channel
        uniqueid = f"{event.call_id}-s{next(self._ids)}"
        dial = control.settings.endpoint(event.supervisor)
        leg = Leg(uniqueid, event.call_id, event.supervisor, spy=True, dial=dial)
        self.spies[key] = leg
        self.legs[uniqueid] = leg
        fields: dict[str, str | list[str]] = {
            "Channel": dial,
            "Application": "ChanSpy",
            "Data": f"{spied},{SPY_OPTIONS[event.mode]}",
            "CallerID": f'"{event.mode}" <{event.agent_id}>',
            "Timeout": str(round(control.settings.ring_timeout * 1000)),
            "Async": "true",
            "ChannelId": uniqueid,
        }
        control._spawn(event.call_id, self._originate(leg, fields))
        log.info("call %s: supervisor %s %s agent %s", event.call_id, event.supervisor, event.mode, event.agent_id)

    def _main(self, call_id: str) -> tuple[str, str]:
        return self.control.settings.contexts.conference, call_id

    def _done(self, call: AsteriskCall) -> None:
        """The call left the ACD (to an outside number): Hotline stops following its caller."""
        control = self.control
        if control.calls.pop(call.call_id, None) is not None:
            control._closed(call, "transferred")

    # -- AMI actions -----------------------------------------------------------------------

    def _redirect(self, call_id: str, channel: str, target: tuple[str, str], *, extra: str = "",
                  extra_target: tuple[str, str] | None = None) -> None:
        fields: dict[str, str | list[str]] = {
            "Channel": channel, "Context": target[0], "Exten": target[1], "Priority": "1",
        }
        if extra:
            second = extra_target or target
            fields.update(ExtraChannel=extra, ExtraContext=second[0], ExtraExten=second[1], ExtraPriority="1")
        self.control._spawn(call_id, self._action(call_id, "Redirect", fields))

    def _hangup(self, call_id: str, channel: str) -> None:
        if channel:
            self.control._spawn(call_id, self._action(call_id, "Hangup", {"Channel": channel, "Cause": "16"}))

    async def _action(self, call_id: str, name: str, fields: dict[str, str | list[str]]) -> None:
        try:
            await self.control.ami.action(name, fields)
        except AmiActionError as exc:
            log.info("call %s: %s of %s refused: %s", call_id, name, fields.get("Channel"), exc.message)
        except AmiError as exc:
            log.warning("call %s: %s of %s failed: %s", call_id, name, fields.get("Channel"), exc)

    async def _originate(self, leg: Leg, fields: dict[str, str | list[str]]) -> None:
        try:
            await self.control.ami.action("Originate", fields)
        except AmiError as exc:
            log.error("call %s: Originate of %s refused: %s", leg.call_id, leg.dial, exc)
            self._leg_failed(leg)

    # -- AMI events of the legs -> core -----------------------------------------------------

    def on_originate_response(self, msg: AmiMessage) -> bool:
        uniqueid = msg.get("Uniqueid")
        leg = self.legs.get(uniqueid)
        if leg is None and uniqueid in ("", "<unknown>"):
            channel = msg.get("Channel")
            leg = next((lg for lg in self.legs.values() if not lg.up and lg.dial == channel), None)
        if leg is None:
            return False
        if msg.get("Response") != "Success":
            self._leg_failed(leg)
            return True
        leg.up = True
        self.names[leg.uniqueid] = msg.get("Channel")
        if leg.spy:
            return True
        acd = self.control.acd
        acd_call = acd.calls.get(leg.call_id)
        party = (acd_call.parties or {}).get(leg.who) if acd_call is not None else None
        if party is not None and party.state != TALKING:
            try:
                acd.party_answered(leg.call_id, leg.who)
            except AcdError as exc:
                log.warning("call %s: party %s answered but: %s", leg.call_id, leg.who, exc)
        return True

    def _leg_failed(self, leg: Leg) -> None:
        """A leg never answered (or could not be Originated)."""
        leg.gone = True
        self.legs.pop(leg.uniqueid, None)
        self.names.pop(leg.uniqueid, None)
        acd = self.control.acd
        acd_call = acd.calls.get(leg.call_id)
        try:
            if leg.spy:
                if self.spies.get((leg.call_id, leg.who)) is leg:
                    del self.spies[(leg.call_id, leg.who)]
                    if acd_call is not None and leg.who in (acd_call.monitors or {}):
                        acd.unmonitor(leg.call_id, leg.who, "failed")
            elif acd_call is not None and leg.who in (acd_call.parties or {}):
                acd.remove_party(leg.call_id, leg.who, "failed")
        except AcdError as exc:
            log.warning("call %s: leg %s failed but: %s", leg.call_id, leg.uniqueid, exc)

    def on_hangup(self, msg: AmiMessage) -> bool:
        """A leg of ours, or the agent's channel of a call in a room, hung up."""
        uniqueid = msg.headers.get("Uniqueid", "")
        name = msg.get("Channel")
        leg = self.legs.get(uniqueid)
        if leg is not None:
            if not leg.up:
                self._leg_failed(leg)
                return True
            leg.gone = True
            del self.legs[uniqueid]
            self.names.pop(uniqueid, None)
            self._leg_gone(leg)
            return True
        room = next((r for r in self.rooms.values() if r.agent_leg in (uniqueid, name)), None)
        if room is None:
            room = self.rooms.get(uniqueid)
            if room is not None and room.external:  # the caller of a call handed to a number
                self._close_external(room)
                return True
            return False
        self._agent_gone(room)
        return True

    def _leg_gone(self, leg: Leg) -> None:
        acd = self.control.acd
        acd_call = acd.calls.get(leg.call_id)
        room = self.rooms.get(leg.call_id)
        try:
            if leg.spy:
                if self.spies.get((leg.call_id, leg.who)) is leg:
                    del self.spies[(leg.call_id, leg.who)]
                    if acd_call is not None and leg.who in (acd_call.monitors or {}):
                        acd.unmonitor(leg.call_id, leg.who, "left")
            elif acd_call is not None and leg.who in (acd_call.parties or {}):
                acd.remove_party(leg.call_id, leg.who, "left")
            elif room is not None and room.external:  # the outside party of a handed-on call
                self._close_external(room)
        except AcdError as exc:
            log.warning("call %s: leg %s gone but: %s", leg.call_id, leg.uniqueid, exc)

    def _agent_gone(self, room: Room) -> None:
        """The agent's channel in the room hung up: leave, complete a consult, or end."""
        if room.external:
            self._close_external(room)
            return
        acd = self.control.acd
        call_id = room.call_id
        acd_call = acd.calls.get(call_id)
        if acd_call is None or acd_call.state is not CallState.ON_CALL:
            return
        room.agent_leg = ""
        parties = acd_call.parties or {}
        consult = next((p for p in parties.values() if p.role == CONSULT), None)
        try:
            if consult is not None and consult.state == TALKING:
                acd.complete_transfer(call_id)  # as Asterisk's attended transfer: hanging up completes
            elif any(p.state == TALKING and p.role != CONSULT for p in parties.values()):
                acd.leave(call_id, acd_call.agent_id)
            else:
                call = self.control.calls.pop(call_id, None)
                acd.end(call_id)
                if call is not None:
                    self._hangup(call_id, call.channel)
                    self.control._closed(call, "ended")
        except AcdError as exc:
            log.warning("call %s: agent left the room but: %s", call_id, exc)

    def _close_external(self, room: Room) -> None:
        """Caller and outside number: when one goes, the other is alone. Hang up the room."""
        self.rooms.pop(room.call_id, None)
        for leg in room.legs.values():
            self._hangup(room.call_id, leg.uniqueid)
        self._hangup(room.call_id, room.agent_leg)
