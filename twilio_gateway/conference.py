"""Consultations, conferences and supervisors on Twilio (the core's third parties and
monitors of `acd/transfer.py`), the way Twilio Flex does them: the call's legs in a named
Twilio Conference, third parties and supervisors added through the Participants resource.

- Into the room: the first third party or supervisor of a call moves it into the conference
  `hotline-<CallSid>`. The agent's leg (the child of the caller's <Dial>) is REST-updated to
  `<Dial><Conference>`; that ends the caller's <Dial>, whose action then answers the caller's
  own `<Dial><Conference>` (`caller_document`). The caller's leaving ends the conference;
  anyone else's does not (the caller is never dropped when an agent leaves). No beeps; the
  conference is recorded from its start when recording is on.
- Once both are in (the conference's `participant-join` callbacks, which also give its
  ConferenceSid), what was asked runs: `participants.create` of the third party (a consult
  first puts the caller on hold, `hold=True` with the hold music), or of a supervisor
  (listen: `muted`; whisper: `coaching` with `call_sid_to_coach` = the agent's leg; barge:
  a plain participant; a change of mode updates the participant).
- Complete (attended transfer): the transferring agent's participant is removed, the caller
  taken off hold; the consulted party now holds the call. Cancel / no answer / a party
  leaving: its participant is removed (unless it is already gone), the caller taken off hold.
  Merge (conference of three): the caller taken off hold. The call's agent leaving a
  conference: its participant is removed, the others stay.
- Back into the core: a participant's call status (`participant` webhook: answered ->
  `party_answered`; ended before that -> `remove_party` no_answer / failed; ended after ->
  `remove_party` left, or `unmonitor`), the conference's events (`conference` webhook: the
  agent leaving -> complete a talking consult, hand a conference on, or end the call; the
  caller leaving -> the call ends). So every call still ends once, with its segments.

The agent's leg is the one the `agent` webhook reported, else (a call taken back after a
restart) the live child of the caller's call, asked of Twilio. A call that cannot be moved
(no such leg, a REST error, a callback call) has its third parties and supervisors refused
back in the core (`failed`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

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
from acd.transfer import AGENT, CONSULT, NUMBER, TALKING, party_id
from hotline.phone import to_e164
from hotline.privacy import mask_phone
from twilio_gateway.call import TwilioCall
from twilio_gateway.conference_room import ANSWERED, ENDED, MODES, Leg, Room
from twilio_gateway.errors import TwilioApiError
from twilio_gateway.twiml import render_conference

if TYPE_CHECKING:
    from twilio_gateway.gateway import TwilioGateway

log = logging.getLogger("hotline.twilio")


class TwilioConferences:
    """The conference side of one `TwilioGateway` (its own ACD subscription)."""

    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway
        self.rooms: dict[str, Room] = {}
        self.agent_legs: dict[str, tuple[str, str]] = {}  # call -> (agent id, its leg's CallSid)
        self._n = itertools.count(1)
        self._unsubscribe = gateway.acd.subscribe(self._on_acd_event, kinds=(
            PartyAdded, PartyJoined, PartyLeft, CallTransferred, CallMonitored, CallMonitorEnded, CallEnded,
        ))

    def close(self) -> None:
        self._unsubscribe()

    # -- webhooks ------------------------------------------------------------------------

    def agent_leg(self, call_id: str, agent_id: str | None, leg: str) -> None:
        """The agent's leg of `call_id` answered (the <Sip>/<Client> status callback)."""
        acd_call = self.gateway.acd.calls.get(call_id)
        if acd_call is not None and acd_call.agent_id and agent_id in (None, acd_call.agent_id):
            self.agent_legs[call_id] = (acd_call.agent_id, leg)

    def caller_document(self, call_id: str) -> str | None:
        """The caller's <Dial> ended because its agent leg moved into the room: the caller's
        way in (None: not ours, the <Dial> really ended)."""
        room = self.rooms.get(call_id)
        if room is None or not room.moving:
            return None
        room.moving = False
        return self._room_twiml(room, caller=True)

    def conference_event(self, call_id: str, event: str, conference_sid: str, leg: str) -> None:
        """The conference's status callback (start, end, participant join and leave)."""
        room = self.rooms.get(call_id)
        if room is None or (room.conference_sid and conference_sid != room.conference_sid):
            return
        room.conference_sid = conference_sid
        if event == "participant-join" and leg:
            room.joined.add(leg)
            party = self._leg_by_sid(room, leg)
            if party is not None:
                self._answered(room, party)
            if room.ready and room.pending:
                pending, room.pending = room.pending, []
                for action in pending:
                    self._spawn(room, action())
        elif event == "participant-leave" and leg:
            room.joined.discard(leg)
            party = self._leg_by_sid(room, leg)
            if leg == room.call_id:
                self._caller_left(room)
            elif leg == room.agent_leg and room.external:
                self._close_external(room)
            elif leg == room.agent_leg:
                if party is not None:  # a party that took the call
                    party.gone = True
                self._agent_left(room)
            elif party is not None:
                self._leg_ended(room, party, "completed")
        elif event == "conference-end":
            self._caller_left(room)

    def participant_status(self, call_id: str, n: int, leg_sid: str, status: str) -> None:
        """The call status of a participant Hotline dialled (`leg=n` of its URL)."""
        room = self.rooms.get(call_id)
        leg = room.legs.get(n) if room is not None else None
        if room is None or leg is None:
            return
        if not leg.sid:
            leg.sid = leg_sid
        if status in ANSWERED:
            self._answered(room, leg)
        elif status in ENDED:
            if leg.sid and leg.sid == room.agent_leg and room.external:
                self._close_external(room)  # the number the call was left with hung up
            elif leg.sid and leg.sid == room.agent_leg:
                leg.gone = True
                self._agent_left(room)  # the party that took the call hung up
            self._leg_ended(room, leg, status)

    # -- core events -> Twilio -----------------------------------------------------------

    def _on_acd_event(self, event: Event) -> None:
        gateway = self.gateway
        if not gateway.acting():
            return
        call_id = getattr(event, "call_id", "")
        call = gateway.calls.get(call_id)
        room = self.rooms.get(call_id)
        if isinstance(event, PartyAdded) and call is not None:
            self._party_added(event, call)
        elif isinstance(event, CallMonitored) and call is not None:
            self._monitored(event, call)
        elif room is None:
            if isinstance(event, CallEnded | CallTransferred):
                self.agent_legs.pop(call_id, None)
            return
        elif isinstance(event, PartyJoined):
            self._unhold(room)
        elif isinstance(event, PartyLeft):
            self._party_left(room, event)
        elif isinstance(event, CallMonitorEnded):
            leg = room.spies.pop(event.supervisor, None)
            if leg is not None:
                self._drop_leg(room, leg)
        elif isinstance(event, CallTransferred):
            self._transferred(room, event, call)
        elif isinstance(event, CallEnded):
            del self.rooms[call_id]
            self.agent_legs.pop(call_id, None)
            for leg in room.legs.values():  # still ringing: it would ring into an ended room
                if not leg.gone and not leg.up:
                    leg.gone = True
                    if leg.sid:
                        self.gateway._spawn(self._hangup(leg.sid), "conference-end", call_id)

    def _party_added(self, event: PartyAdded, call: TwilioCall) -> None:
        to = self._address(event.target_kind, event.target)
        room = self._room(call) if to is not None else None
        shown = event.party if event.target_kind != NUMBER else mask_phone(event.target)
        if room is None or to is None:
            log.warning("twilio call %s: %s of %s refused: %s", call.sid, event.role, shown,
                        "no Twilio address" if to is None else "not a call Hotline can move")
            self._refuse(lambda: self.gateway.acd.remove_party(event.call_id, event.party, "failed"))
            return
        leg = self._new_leg(room, event.party)
        room.parties[event.party] = leg
        consult = event.role == CONSULT
        log.info("twilio call %s: %s of %s in conference %s", call.sid, event.role, shown, room.name)
        self._when_ready(room, lambda: self._dial_party(room, leg, to, hold=consult))

    def _monitored(self, event: CallMonitored, call: TwilioCall) -> None:
        room = self.rooms.get(call.sid)
        leg = room.spies.get(event.supervisor) if room is not None else None
        if room is not None and leg is not None and not leg.gone:
            leg.mode = event.mode
            if leg.sid:
                self._spawn(room, self._set_mode(room, leg, event.mode))
            return
        to = self._supervisor_address(event.supervisor)
        room = self._room(call) if to is not None else None
        if room is None or to is None:
            log.warning("twilio call %s: %s by %s refused: %s", call.sid, event.mode, event.supervisor,
                        "no Twilio address" if to is None else "not a call Hotline can move")
            self._refuse(lambda: self.gateway.acd.unmonitor(event.call_id, event.supervisor, "failed"))
            return
        leg = self._new_leg(room, event.supervisor, supervisor=True, mode=event.mode)
        room.spies[event.supervisor] = leg
        log.info("twilio call %s: supervisor %s %s agent %s", call.sid, event.supervisor, event.mode,
                 event.agent_id)
        self._when_ready(room, lambda: self._dial_party(room, leg, to))

    def _party_left(self, room: Room, event: PartyLeft) -> None:
        leg = room.parties.pop(event.party, None)
        if leg is not None:
            self._drop_leg(room, leg)
        if room.held and event.reason != "call_ended":
            self._unhold(room)  # the consult is over: the agent is back with the caller

    def _transferred(self, room: Room, event: CallTransferred, call: TwilioCall | None) -> None:
        if event.mode == "blind":  # the caller's TwiML is replaced: they leave, the room ends
            del self.rooms[room.call_id]
            self.agent_legs.pop(room.call_id, None)
            return
        heir = room.parties.pop(party_id(event.target_kind, event.target), None)
        old, room.agent_leg = room.agent_leg, heir.sid if heir is not None else ""
        if old:
            room.joined.discard(old)
            self._spawn(room, self._remove(room, old))
        self._unhold(room)
        if event.target_kind == AGENT:
            room.agent_id = event.target
            if heir is not None:
                self.agent_legs[room.call_id] = (event.target, heir.sid)
            if call is not None:
                call.agent_id = event.target
        else:  # the caller and the outside number stay; the ACD is done with the call
            room.external = True
            if call is not None:
                self.gateway._forget(call)
        log.info("twilio call %s: %s transfer from %s to %s", room.call_id, event.mode, event.agent_id,
                 event.target if event.target_kind == AGENT else "a number")

    # -- the legs' ends -> core ------------------------------------------------------------

    def _answered(self, room: Room, leg: Leg) -> None:
        if leg.up or leg.gone:
            return
        leg.up = True
        if leg.supervisor:
            return
        acd = self.gateway.acd
        acd_call = acd.calls.get(room.call_id)
        party = (acd_call.parties or {}).get(leg.who) if acd_call is not None else None
        if party is not None and party.state != TALKING:
            try:
                acd.party_answered(room.call_id, leg.who)
            except AcdError as exc:
                log.warning("twilio call %s: party %s answered but: %s", room.call_id, leg.who, exc)

    def _leg_ended(self, room: Room, leg: Leg, status: str) -> None:
        """A participant's call ended (or it left the room): tell the core, once."""
        if leg.gone:
            return
        leg.gone = True
        acd = self.gateway.acd
        acd_call = acd.calls.get(room.call_id)
        if acd_call is None:
            return
        reason = "left" if leg.up else "failed" if status == "failed" else "no_answer"
        try:
            if leg.supervisor:
                if room.spies.get(leg.who) is leg and leg.who in (acd_call.monitors or {}):
                    acd.unmonitor(room.call_id, leg.who, reason)
            elif room.parties.get(leg.who) is leg and leg.who in (acd_call.parties or {}):
                acd.remove_party(room.call_id, leg.who, reason)
        except AcdError as exc:
            log.warning("twilio call %s: leg of %s ended but: %s", room.call_id, leg.who, exc)

    def _agent_left(self, room: Room) -> None:
        """The call's agent left the room (hung up): complete a talking consult (as a phone's
        attended transfer does), hand a conference on, or, alone with the caller, end the call."""
        gateway = self.gateway
        acd = gateway.acd
        acd_call = acd.calls.get(room.call_id)
        room.agent_leg = ""
        if acd_call is None or acd_call.state is not CallState.ON_CALL:
            return
        parties = acd_call.parties or {}
        consult = next((p for p in parties.values() if p.role == CONSULT), None)
        try:
            if consult is not None and consult.state == TALKING:
                acd.complete_transfer(room.call_id)
            elif any(p.state == TALKING and p.role != CONSULT for p in parties.values()):
                acd.leave(room.call_id, acd_call.agent_id)
            else:
                call = gateway.calls.get(room.call_id)
                if call is not None:
                    gateway._forget(call)
                gateway.ops.end(room.call_id)
                gateway._spawn(self._hangup(room.call_id), "conference-end", room.call_id)
        except AcdError as exc:
            log.warning("twilio call %s: the agent left the conference but: %s", room.call_id, exc)

    def _caller_left(self, room: Room) -> None:
        if self.rooms.get(room.call_id) is room and room.external:
            del self.rooms[room.call_id]
            return
        self.gateway.status(room.call_id, "completed")  # as the call's own status callback

    def _close_external(self, room: Room) -> None:
        """A call handed to a number: when the number goes, the caller is alone. Hang up."""
        if self.rooms.pop(room.call_id, None) is not None:
            self.gateway._spawn(self._hangup(room.call_id), "conference-end", room.call_id)

    # -- Twilio's REST API ------------------------------------------------------------------

    def _room(self, call: TwilioCall) -> Room | None:
        """The call's room; the call is moved into it when it has none yet."""
        room = self.rooms.get(call.sid)
        if room is not None:
            return room
        acd_call = self.gateway.acd.calls.get(call.sid)
        if acd_call is None or not acd_call.agent_id or call.callback_leg or call.callback_number:
            return None  # a callback call: its agent's leg is the parent, not a <Dial>'s child
        known = self.agent_legs.get(call.sid)
        leg = known[1] if known is not None and known[0] == acd_call.agent_id else ""
        room = self.rooms[call.sid] = Room(call.sid, acd_call.agent_id, leg)
        self._spawn(room, self._move(room))
        return room

    async def _move(self, room: Room) -> None:
        rest = self.gateway.rest
        try:
            if not room.agent_leg:  # not reported to this process (taken back after a restart)
                room.agent_leg = await rest.child_leg(room.call_id) or ""
                if not room.agent_leg:
                    raise TwilioApiError(f"twilio call {room.call_id}: no live agent leg")
                self.agent_legs[room.call_id] = (room.agent_id, room.agent_leg)
            await rest.update_twiml(room.agent_leg, self._room_twiml(room, caller=False))
        except TwilioApiError as exc:
            log.error("twilio call %s: moving into conference %s failed: %s", room.call_id, room.name, exc)
            self._abandon_room(room)

    def _abandon_room(self, room: Room) -> None:
        """The call could not be moved: what waited for the room is refused in the core."""
        if self.rooms.get(room.call_id) is not room:
            return
        del self.rooms[room.call_id]
        room.pending.clear()
        gateway = self.gateway
        acd = gateway.acd
        if not room.moving:  # the caller went in already, the agent's leg could not: it is over
            call = gateway.calls.get(room.call_id)
            if call is not None:
                gateway._caller_gone(call, "agent leg lost")
            gateway._spawn(self._hangup(room.call_id), "conference-end", room.call_id)
            return
        for who in list(room.parties):
            self._refuse(lambda who=who: acd.remove_party(room.call_id, who, "failed"))  # type: ignore[misc]
        for who in list(room.spies):
            self._refuse(lambda who=who: acd.unmonitor(room.call_id, who, "failed"))  # type: ignore[misc]

    def _when_ready(self, room: Room, action: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if room.ready:
            self._spawn(room, action())
        else:
            room.pending.append(action)

    async def _dial_party(self, room: Room, leg: Leg, to: str, *, hold: bool = False) -> None:
        gateway = self.gateway
        settings = gateway.settings
        call = gateway.calls.get(room.call_id)
        caller_id = settings.callback_from or (call.dialed if call is not None else "")
        mode = leg.mode
        options: dict[str, Any] = {}
        if leg.supervisor:
            options = {k: v for k, v in MODES[mode].items() if v is True}
            if options.get("coaching"):
                options["call_sid_to_coach"] = room.agent_leg
        if leg.gone:  # removed before the room was ready
            return
        try:
            if hold and not room.held:
                room.held = True
                await gateway.rest.update_participant(
                    room.conference_sid, room.call_id, hold=True, hold_url=settings.hold_music_url, hold_method="GET"
                )
            if leg.gone:
                return
            leg.sid = await gateway.rest.add_participant(
                room.conference_sid, to=to, from_=caller_id,
                status_callback=settings.url("participant", call=room.call_id, leg=leg.n),
                ring=settings.ring_timeout, label=leg.who, **options,
            )
        except TwilioApiError as exc:
            log.error("twilio call %s: adding %s to conference %s failed: %s", room.call_id,
                      leg.who if not leg.who.startswith("tel:") else "a number", room.name, exc)
            self._leg_ended(room, leg, "failed")
            return
        if leg.gone:  # removed while Twilio was dialling it
            await self._remove(room, leg.sid)
        elif leg.supervisor and leg.mode != mode:  # changed while Twilio was dialling it
            await self._set_mode(room, leg, leg.mode)

    async def _set_mode(self, room: Room, leg: Leg, mode: str) -> None:
        fields = dict(MODES[mode])
        if fields["coaching"]:
            fields["call_sid_to_coach"] = room.agent_leg
        try:
            await self.gateway.rest.update_participant(room.conference_sid, leg.sid, **fields)
        except TwilioApiError as exc:
            log.warning("twilio call %s: %s of %s failed: %s", room.call_id, mode, leg.who, exc)

    def _unhold(self, room: Room) -> None:
        if room.held:
            room.held = False
            self._spawn(room, self._participant(room, room.call_id, hold=False))

    async def _participant(self, room: Room, sid: str, **fields: object) -> None:
        try:
            await self.gateway.rest.update_participant(room.conference_sid, sid, **fields)
        except TwilioApiError as exc:
            log.warning("twilio call %s: updating participant %s failed: %s", room.call_id, sid, exc)

    def _drop_leg(self, room: Room, leg: Leg) -> None:
        """The core is done with `leg`: take it out of the room (unless it is gone already)."""
        if leg.gone:
            return
        leg.gone = True
        if leg.sid:
            self._spawn(room, self._remove(room, leg.sid))

    async def _remove(self, room: Room, sid: str) -> None:
        try:
            await self.gateway.rest.remove_participant(room.conference_sid, sid)
        except TwilioApiError as exc:  # 404: it left by itself meanwhile
            log.info("twilio call %s: removing participant %s: %s", room.call_id, sid, exc)

    async def _hangup(self, sid: str) -> None:
        """Hang up a call: the caller left alone, or a party still ringing when the call ended."""
        try:
            await self.gateway.rest.hangup(sid)
        except TwilioApiError as exc:
            log.info("twilio call %s: hanging up: %s", sid, exc)

    # -- helpers ---------------------------------------------------------------------------

    def _room_twiml(self, room: Room, *, caller: bool) -> str:
        settings = self.gateway.settings
        return render_conference(
            room.name, caller=caller,
            status_url=settings.url("conference", call=room.call_id),
            recording_url=settings.url("recording", call=room.call_id) if settings.record else None,
        )

    def _address(self, kind: str, target: str) -> str | None:
        """Whom Twilio dials for a party: the agent's SIP URI / client identity, or the number."""
        if kind == NUMBER:
            return target
        agent = self.gateway.settings.agents.get(target)
        if agent is None:
            return None
        return agent.address if agent.kind == "sip" else f"client:{agent.address}"

    def _supervisor_address(self, supervisor: str) -> str | None:
        """A supervisor's phone: their address in `twilio.agents`, or a phone number (E.164,
        or national digits of at least 8 read in the hotline's country)."""
        number = supervisor.removeprefix("+")
        if self._address(AGENT, supervisor) is None and number.isascii() and number.isdigit() and len(number) >= 8:
            return to_e164(supervisor)
        return self._address(AGENT, supervisor)

    def _new_leg(self, room: Room, who: str, *, supervisor: bool = False, mode: str = "") -> Leg:
        leg = Leg(next(self._n), who, supervisor=supervisor, mode=mode)
        room.legs[leg.n] = leg
        return leg

    @staticmethod
    def _leg_by_sid(room: Room, sid: str) -> Leg | None:
        return next((leg for leg in room.legs.values() if leg.sid == sid), None)

    def _spawn(self, room: Room, coro: Coroutine[Any, Any, None]) -> None:
        """Run a REST request about the room, after the ones asked for before it (Twilio sees
        hold before dial, a mode change after the one before it)."""

        async def in_order() -> None:
            async with room.lock:
                await coro

        self.gateway._spawn(in_order(), "conference", room.call_id)

    @staticmethod
    def _refuse(undo: Callable[[], None]) -> None:
        try:
            undo()
        except AcdError as exc:
            log.warning("twilio: could not undo: %s", exc)
