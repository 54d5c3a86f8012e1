"""Call control on Asterisk: the ACD's decisions become AMI actions, AMI events become ACD calls.

Routing uses Redirect into a dialplan context that Dials (not Originate + Bridge): the caller
waits in the hold context; when the core assigns an agent, Hotline Redirects the caller to
`<connect context>,<agent id>,1`, where the dialplan starts MixMonitor once and Dials the
agent's phone for the ring timeout with music for the caller. Asterisk then owns the races
between the caller hanging up, the agent answering and the timeout (a caller hang-up cancels
the ringing; an answer bridges at once), one action per offer instead of Originate + Bridge +
cleanup of orphan agent legs, and a Hotline restart in mid-ring still connects the call.

Events (asterisk/events.py) drive the core: DialEnd ANSWER -> `acd.answer`; DialEnd
NOANSWER/BUSY/CHANUNAVAIL/CONGESTION -> `acd.ring_no_answer` (the call returns to its place);
Hangup of a waiting or ringing caller -> `acd.abandon`; Hangup of a talking caller -> `acd.end`;
DeviceStateChange of an agent's phone: offline or busy outside Hotline pauses the agent, free
again unpauses (only pauses Hotline made). When the core's own ring timer fires first, the
caller is Redirected back to hold, which cancels the Dial. Callbacks (no caller channel left)
ring the agent by Originate instead: `asterisk.callback.Callbacks`, fed from the same table.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from acd.agent import AgentState
from acd.call import CallState
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import (
    AgentStateChanged,
    CallAbandoned,
    CallArrived,
    CallAssigned,
    CallRingNoAnswer,
    Event,
)
from acd.wait_estimate import Announcements, WaitEstimator
from asterisk import resync
from asterisk.ami_client import ActionResult
from asterisk.ami_parser import AmiMessage
from asterisk.callback import CALLBACK_SOURCE, CallbackCall, Callbacks
from asterisk.devices import LINK_DOWN, Presence, apply_presence, presence
from asterisk.errors import AmiActionError, AmiError, AmiNotConnected, CallControlError
from asterisk.events import HANDLERS
from asterisk.hangup_side import HangupSides
from asterisk.hold_announce import HoldAnnouncer
from asterisk.settings import AsteriskSettings
from asterisk.transfer import AsteriskTransfers
from hotline.privacy import mask_phone

log = logging.getLogger("hotline.asterisk.control")

RING_FAILURES = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"})



class ActionSender(Protocol):
    async def action(
        self, name: str, fields: dict[str, str | list[str]] | None = None, *, within: float | None = None
    ) -> ActionResult: ...


@dataclass
class AsteriskCall:
    call_id: str  # the caller channel's Uniqueid
    channel: str  # the caller channel's name
    caller: str = ""
    dialed: str = ""
    agent_id: str = ""
    agent_channel: str = ""
    agent_uniqueid: str = ""
    bridge: str = ""
    recording: Path | None = None
    ring_failed_in_asterisk: bool = False
    recording_muted: bool = False
    # Set while the channel sits in an application (AGI, MusicOnHold, Dial); clear from a
    # Redirect to an agent until that Dial begins, while Asterisk walks the connect
    # priorities: another Redirect landing between two priorities can strand the channel
    # at a location that does not exist (Asterisk hangs up), so the next one waits.
    in_app: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.in_app.set()


RecordingHook = Callable[[str, Path], None]
ClosedHook = Callable[[AsteriskCall, str], None]  # the call, how ("ended" / "abandoned")


class CallControl:
    def __init__(
        self,
        acd: Acd,
        settings: AsteriskSettings,
        ami: ActionSender,
        *,
        defer: Callable[[Callable[[], None]], Any] | None = None,
        on_recording: RecordingHook | None = None,
        on_closed: ClosedHook | None = None,
        before_action: Callable[[], Awaitable[Any]] | None = None,
        on_booted: Callable[[], None] | None = None,
        estimator: WaitEstimator | None = None,
        listen: bool = True,
    ) -> None:
        """`listen`: follow the ACD's decisions (False: an inert control, for a node whose
        ACD is a replica of another node's: hotline/cluster_agi.py)."""
        self.acd = acd
        self.on_booted = on_booted
        # Awaited before each AMI action a decision of the core causes (`state.mode: cluster`:
        # until the decision is in Redis, so a new leader knows every phone that rings).
        self.before_action = before_action
        self.settings = settings
        self.ami = ami
        self._defer = defer
        self.on_recording = on_recording
        self.on_closed = on_closed
        self.calls: dict[str, AsteriskCall] = {}
        self.devices: dict[str, Presence] = {}  # agent id -> presence of its phone
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_call: dict[str, set[asyncio.Task[None]]] = {}  # actions in flight per call
        self.hangups = HangupSides()  # who hung up first; `on_ended_by` set by the wiring
        self.on_user_event = self.hangups.on_user_event
        self._handlers: dict[str, Callable[[AmiMessage], None]] = {
            name: getattr(self, method) for name, method in HANDLERS.items()
        }
        self.unknown_events = 0
        self.callbacks = Callbacks(
            acd, settings, ami, spawn=self._spawn, on_closed=self._callback_closed,
            on_recording=lambda call_id, path: self._recorded(call_id, path),
        )
        self.transfers = AsteriskTransfers(self)  # transfers, conferences, supervisors
        self._unsubscribe: Callable[[], None] = acd.subscribe(self.on_acd_event) if listen else (lambda: None)
        self._listing: asyncio.Future[dict[str, AmiMessage]] | None = None
        # Position and expected wait for waiting callers (queues without `announce`: its defaults).
        self.estimator = estimator or WaitEstimator(
            acd, {q.name: q.announce or Announcements() for q in acd.queues.values()}
        )
        self.announcer = HoldAnnouncer(acd, settings, ami, self.estimator, spawn=self._spawn,
                                       channel_of=self._channel_of, in_app=self._in_app_by_id,
                                       leaving_app=self._leaving_app)

    def _channel_of(self, call_id: str) -> str | None:
        call = self.calls.get(call_id)
        return call.channel if call is not None and call.channel else None

    def close(self) -> None:
        self._unsubscribe()
        self.announcer.close()
        self.estimator.close()
        for task in list(self._tasks):
            task.cancel()

    async def drain(self) -> None:
        """Wait for the AMI actions in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the IVR hands a call over -----------------------------------------------------------

    def enqueue(
        self,
        call_id: str,
        channel: str,
        queue: str,
        *,
        caller: str = "",
        dialed: str = "",
        language: str = "",
        priority: int = 0,
        tier: str = "regular",
        skills: Mapping[str, int] | None = None,
        waited: float = 0.0,
    ) -> None:
        """The caller (parked in the hold context) enters `queue` in the core."""
        call = AsteriskCall(call_id, channel, caller=caller, dialed=dialed)
        self.calls[call_id] = call
        try:
            self.acd.arrive(
                call_id, queue, caller=caller, language=language, priority=priority, tier=tier,
                skills=skills, source="asterisk", dialed=dialed, waited=waited,
            )
        except AcdError as exc:
            self.calls.pop(call_id, None)
            raise CallControlError(f"cannot queue call {call_id}: {exc}", call_id) from exc
        log.info("call %s from %s queued in %s", call_id, mask_phone(caller), queue)

    # -- core events -> AMI actions ------------------------------------------------------------

    def on_acd_event(self, event: Event) -> None:
        if isinstance(event, CallArrived):
            if not self.callbacks.on_arrived(event) and event.call_id not in self.calls:
                self._arrived_elsewhere(event)
            return
        if self.callbacks.on_acd_event(event) or self.transfers.on_acd_event(event):
            return
        if isinstance(event, CallAssigned):
            call = self.calls.get(event.call_id)
            if call is not None:
                call.agent_id = event.agent_id
                call.ring_failed_in_asterisk = False
                self._spawn(call.call_id, self._connect(call, event.agent_id))
        elif isinstance(event, CallRingNoAnswer):
            call = self.calls.get(event.call_id)
            if call is not None:
                if not call.ring_failed_in_asterisk:  # the core's timer: stop the ringing
                    self._spawn(call.call_id, self._to_hold(call))
                call.ring_failed_in_asterisk = False
                call.agent_id = ""
        elif isinstance(event, CallAbandoned):
            call = self.calls.pop(event.call_id, None)
            if call is not None:  # the core gave up (max wait): release the caller
                self._spawn(call.call_id, self._hangup(call))
                self._closed(call, "abandoned")
        elif (
            isinstance(event, AgentStateChanged)
            and event.new == AgentState.AVAILABLE.value
            and self.devices.get(event.agent_id) is Presence.OFFLINE
        ):
            agent_id = event.agent_id
            self._later(lambda: apply_presence(self.acd, agent_id, Presence.OFFLINE))

    def _arrived_elsewhere(self, event: CallArrived) -> None:
        """A call queued by another node's IVR (cluster: a FastAGI session on a follower, its
        `arrive` sent here): take the channel by its Uniqueid, before any action of the call
        (they wait on the call's lock); a callback has no channel to take."""
        if event.source == CALLBACK_SOURCE:
            self.callbacks.calls[event.call_id] = CallbackCall(event.call_id, event.caller, dialed=event.dialed)
            log.info("call %s: callback queued by another node taken", event.call_id)
        elif event.source == "asterisk":
            call = self.calls[event.call_id] = AsteriskCall(event.call_id, "", caller=event.caller,
                                                           dialed=event.dialed)
            self._spawn(event.call_id, self._locate(call))

    async def _locate(self, call: AsteriskCall) -> None:
        if self.calls.get(call.call_id) is not call:
            return  # hung up meanwhile
        try:
            live = await self._live_channels()
        except AmiError as exc:  # no link now: the resync at the next login finds the channel
            log.warning("call %s: channel not looked up (%s); the resync takes it", call.call_id, exc)
            return
        item = live.get(call.call_id)
        if item is None:
            log.info("call %s: caller gone before its channel was taken", call.call_id)
            self._caller_gone(call.call_id)
            return
        call.channel = item.get("Channel")
        log.info("call %s: channel %s taken from another node's IVR", call.call_id, call.channel)
        self.announcer.watch(call.call_id)  # its CallQueued came before its channel was known

    async def _live_channels(self) -> dict[str, AmiMessage]:
        """Asterisk's channels by Uniqueid: one CoreShowChannels for the lookups asked for
        before it is sent (a burst of arrivals costs one list)."""
        if self._listing is None or self._listing.done():
            self._listing = asyncio.ensure_future(self._list_channels())
        return await asyncio.shield(self._listing)

    async def _list_channels(self) -> dict[str, AmiMessage]:
        await asyncio.sleep(0)  # the lookups of this step of the loop join this list
        self._listing = None
        channels = await self.ami.action("CoreShowChannels")
        return {m.get("Uniqueid"): m for m in channels.items}

    def _later(self, fn: Callable[[], None]) -> None:
        """Run `fn` after the core finished the operation that emitted the current event."""
        if self._defer is not None:
            self._defer(fn)
        else:
            asyncio.get_running_loop().call_soon(fn)

    def _spawn(self, call_id: str, coro: Coroutine[Any, Any, None]) -> None:
        lock = self._locks.setdefault(call_id, asyncio.Lock())

        async def run() -> None:
            async with lock:  # one call's actions run in the order the core decided them
                if self.before_action is not None:
                    try:
                        await self.before_action()
                    except Exception as exc:  # not the leader any more: a new one decides
                        log.error("call %s: action dropped, the decision is not persisted (%r)", call_id, exc)
                        coro.close()
                        return
                await coro

        task = asyncio.create_task(run())
        self._tasks.add(task)
        mine = self._by_call.setdefault(call_id, set())
        mine.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            mine.discard(task)
            if not mine and self._by_call.get(call_id) is mine:
                del self._by_call[call_id]

        task.add_done_callback(done)

    async def settle(self, call_id: str, within: float) -> None:
        """Wait up to `within` s for the AMI actions already decided for `call_id` (the
        Redirect of a call the core routed the moment it was queued)."""
        pending = list(self._by_call.get(call_id, ()))
        if pending:
            await asyncio.wait(pending, timeout=within)

    async def _connect(self, call: AsteriskCall, agent_id: str) -> None:
        if call.agent_id != agent_id or self.calls.get(call.call_id) is not call:
            return  # superseded while waiting for the lock
        if not call.channel:  # not looked up (no AMI link): as an offer that cannot reach the PBX
            log.warning("call %s: no channel known yet to ring agent %s; back to its place", call.call_id, agent_id)
            self._offer_failed(call, agent_id)
            return
        await self._until_in_app(call)
        if call.agent_id != agent_id or self.calls.get(call.call_id) is not call:
            return
        ctx = self.settings.contexts
        call.in_app.clear()  # until its DialBegin
        try:
            await self.ami.action(
                "Redirect",
                {"Channel": call.channel, "Context": ctx.connect, "Exten": agent_id, "Priority": "1"},
            )
            log.info("call %s: ringing agent %s (%s)", call.call_id, agent_id, self.settings.endpoint(agent_id))
        except AmiActionError as exc:
            call.in_app.set()  # not redirected: it stays where it was
            if exc.message == "No such channel":
                log.warning("call %s: caller channel gone before ringing agent %s", call.call_id, agent_id)
                self._caller_gone(call.call_id)
            else:
                log.error("call %s: Redirect to agent %s refused: %s", call.call_id, agent_id, exc)
        except AmiNotConnected as exc:
            call.in_app.set()
            # Known not to have reached Asterisk: the call goes back to its place now, and the
            # agent is paused until the link is back (the resync unpauses), not left ringing.
            log.error("call %s: cannot ring agent %s: %s; call back to its place", call.call_id, agent_id, exc)
            self._offer_failed(call, agent_id)
        except AmiError as exc:
            # Maybe executed (timeout): the core's ring timer takes the call back if nobody
            # answers; the resync sees what Asterisk did.
            log.error("call %s: cannot ring agent %s: %s", call.call_id, agent_id, exc)

    def _offer_failed(self, call: AsteriskCall, agent_id: str) -> None:
        acd_call = self.acd.calls.get(call.call_id)
        if acd_call is not None and acd_call.state is CallState.RINGING and acd_call.agent_id == agent_id:
            call.ring_failed_in_asterisk = True
            self.acd.offer_failed(call.call_id, LINK_DOWN)

    async def _in_app_by_id(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            await self._until_in_app(call)

    def _leaving_app(self, call_id: str) -> None:
        """A Redirect is about to move the call: the next waits until it runs an application
        again (its DialBegin, or its MusicOnHoldStart after an announcement)."""
        call = self.calls.get(call_id)
        if call is not None:
            call.in_app.clear()

    def on_music_on_hold_start(self, msg: AmiMessage) -> None:
        call = self.calls.get(msg.headers.get("Uniqueid", ""))
        if call is not None:
            call.in_app.set()

    async def _until_in_app(self, call: AsteriskCall) -> None:
        """Wait until the channel runs an application again (Dial, music), bounded by the
        ring timeout: a Dial that never begins does not hold the call for ever."""
        if not call.in_app.is_set():
            try:
                await asyncio.wait_for(call.in_app.wait(), max(5.0, self.settings.ring_timeout))
            except TimeoutError:
                log.warning("call %s: no DialBegin after the Redirect; Redirecting anyway", call.call_id)

    async def _to_hold(self, call: AsteriskCall) -> None:
        if self.calls.get(call.call_id) is not call:
            return
        await self._until_in_app(call)  # the core's ring timer may fire before Asterisk reached Dial
        if self.calls.get(call.call_id) is not call:
            return
        try:
            await self.ami.action(
                "Redirect",
                {"Channel": call.channel, "Context": self.settings.contexts.hold, "Exten": "s", "Priority": "1"},
            )
        except AmiError as exc:
            log.warning("call %s: cannot return the caller to hold: %s", call.call_id, exc)

    async def _hangup(self, call: AsteriskCall) -> None:
        await self.hangup_channel(call.channel, call.call_id)

    async def hangup_channel(self, channel: str, call_id: str = "") -> None:
        """Hang up a caller Hotline cannot serve (e.g. it could not be queued)."""
        try:
            await self.ami.action("Hangup", {"Channel": channel, "Cause": "16"})
        except AmiError as exc:
            log.warning("call %s: hangup failed: %s", call_id, exc)

    # -- recordings ------------------------------------------------------------------------

    async def pause_recording(self, call_id: str) -> None:
        """Mute the call's recording (the caller is about to say a card number)."""
        await self._mute(call_id, True)

    async def resume_recording(self, call_id: str) -> None:
        await self._mute(call_id, False)

    async def _mute(self, call_id: str, mute: bool) -> None:
        call = self.calls.get(call_id)
        if call is None:
            raise CallControlError(f"no Asterisk call {call_id!r}", call_id)
        try:
            await self.ami.action(
                "MixMonitorMute", {"Channel": call.channel, "Direction": "both", "State": "1" if mute else "0"}
            )
        except AmiError as exc:
            raise CallControlError(f"call {call_id}: cannot {'pause' if mute else 'resume'} recording: {exc}",
                                   call_id, detail=exc) from exc
        call.recording_muted = mute

    # -- AMI events -> core ----------------------------------------------------------------

    def handle_ami(self, message: AmiMessage) -> None:
        handler = self._handlers.get(message.name)
        if handler is None:
            self.unknown_events += 1
            return
        handler(message)

    def on_dial_begin(self, msg: AmiMessage) -> None:
        callback = self.callbacks.leg(msg.headers.get("Uniqueid", ""))
        if callback is not None:
            self.callbacks.on_dial_begin(callback, msg)
            return
        call = self.calls.get(msg.headers.get("Uniqueid", ""))
        if call is not None:
            call.agent_channel = msg.get("DestChannel")
            call.in_app.set()
            call.agent_uniqueid = msg.get("DestUniqueid")

    def on_dial_end(self, msg: AmiMessage) -> None:
        callback = self.callbacks.leg(msg.headers.get("Uniqueid", ""))
        if callback is not None:
            self.callbacks.on_dial_end(callback, msg)
            return
        call = self.calls.get(msg.headers.get("Uniqueid", ""))
        if call is None:
            return
        status = msg.get("DialStatus")
        acd_call = self.acd.calls.get(call.call_id)
        ringing = acd_call is not None and acd_call.state is CallState.RINGING
        if status == "ANSWER":
            if ringing:
                self.acd.answer(call.call_id)
            else:
                log.warning("call %s: agent answered after the core gave up (%s)", call.call_id,
                            acd_call.state.value if acd_call else "gone")
        elif status in RING_FAILURES and ringing:
            call.ring_failed_in_asterisk = True
            self.acd.ring_no_answer(call.call_id)

    def on_bridge_enter(self, msg: AmiMessage) -> None:
        call = self.calls.get(msg.headers.get("Uniqueid", ""))
        if call is not None:
            call.bridge = msg.get("BridgeUniqueid")

    def on_hangup(self, msg: AmiMessage) -> None:
        callback = self.callbacks.leg(msg.headers.get("Uniqueid", ""))
        if callback is not None:
            self.callbacks.on_hangup(callback, msg)
            return
        if self.transfers.on_hangup(msg):
            return
        self._caller_gone(msg.headers.get("Uniqueid", ""))

    def on_originate_response(self, msg: AmiMessage) -> None:
        if not self.transfers.on_originate_response(msg):
            self.callbacks.on_originate_response(msg)

    def _caller_gone(self, call_id: str) -> None:
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        call.in_app.set()  # actions waiting for its Dial give up
        self._locks.pop(call_id, None)
        acd_call = self.acd.calls.get(call_id)
        if acd_call is None:
            return
        if acd_call.state is CallState.ON_CALL:
            self.hangups.ending(call_id)
            self.acd.end(call_id)
            self._closed(call, "ended")
        else:
            self.acd.abandon(call_id, reason="caller_hangup")
            self._closed(call, "abandoned")

    def _callback_closed(self, callback: CallbackCall) -> None:
        self._closed(AsteriskCall(callback.call_id, callback.leg_name, caller=callback.number,
                                  dialed=callback.dialed, agent_id=callback.agent_id,
                                  recording=callback.recording), "ended")

    def _closed(self, call: AsteriskCall, how: str) -> None:
        if self.on_closed is not None:
            try:
                self.on_closed(call, how)
            except Exception:
                log.exception("call %s: close hook failed", call.call_id)

    def on_device_state(self, msg: AmiMessage) -> None:
        self.device_state(msg.get("Device"), msg.get("State"))

    def device_state(self, device: str, state: str) -> None:
        agent_id = self.settings.agent_for_device(device)
        if agent_id is None or agent_id not in self.acd.agents:
            return
        now = presence(state)
        if now is Presence.UNKNOWN:
            return
        self.devices[agent_id] = now
        apply_presence(self.acd, agent_id, now)

    def on_mixmonitor_start(self, msg: AmiMessage) -> None:
        callback = self.callbacks.leg(msg.headers.get("Uniqueid", ""))
        if callback is not None:
            self.callbacks.on_mixmonitor_start(callback)
            return
        call = self.calls.get(msg.headers.get("Uniqueid", ""))
        if call is None or call.recording is not None:
            return
        call.recording = self.settings.recording_path(call.call_id)
        self._recorded(call.call_id, call.recording)

    def _recorded(self, call_id: str, path: Path) -> None:
        if self.on_recording is not None:
            try:
                self.on_recording(call_id, path)
            except Exception:
                log.exception("call %s: recording hook failed", call_id)

    def on_fully_booted(self, msg: AmiMessage) -> None:
        log.info("Asterisk fully booted")
        if self.on_booted is not None:  # lists refused while it booted: resync again
            self.on_booted()

    def agent_left(self, call_id: str) -> tuple[AsteriskCall, str] | None:
        """The agent hung up first and the caller is still there (the survey): end the talk.
        The call and its language, or None when the call was not talking."""
        call = self.calls.get(call_id)
        acd_call = self.acd.calls.get(call_id)
        if call is None or acd_call is None or acd_call.state is not CallState.ON_CALL:
            return None
        del self.calls[call_id]
        self._locks.pop(call_id, None)
        self.hangups.ending(call_id, agent=True)
        self.acd.end(call_id)
        self._closed(call, "ended")
        return call, acd_call.language

    def on_shutdown(self, msg: AmiMessage) -> None:
        log.warning("Asterisk is shutting down (%s)", msg.get("Shutdown"))

    # -- resync on every (re)connect ---------------------------------------------------------

    async def resync(self, ami: ActionSender) -> bool:
        """Make the core match Asterisk again (asterisk/resync.py); False when Asterisk
        refused or left unanswered a list (still booting): the caller resyncs again later."""
        return await resync.resync(self, ami)

    def _reattach(self, live: Mapping[str, AmiMessage]) -> None:
        """Calls the core has from before a restart (restored from its journal or from the
        leader's snapshot) that this process has no channel for yet: take their channels
        back, so the checks that follow settle each (gone, answered, still ringing, waiting
        on hold with its place)."""
        for call_id, acd_call in list(self.acd.calls.items()):
            if call_id in self.calls or call_id in self.callbacks.calls:
                continue
            if acd_call.source == CALLBACK_SOURCE:  # no caller channel to find: still waiting
                self.callbacks.readopt(call_id, dict(live))
                continue
            if acd_call.source != "asterisk":
                continue
            item = live.get(call_id)
            self.calls[call_id] = AsteriskCall(
                call_id, item.get("Channel") if item is not None else "", caller=acd_call.caller,
                dialed=acd_call.dialed, agent_id=acd_call.agent_id,
                bridge=item.get("BridgeId") if item is not None else "",
            )
            if item is not None:
                log.info("resync: call %s (%s) taken back from before the restart", call_id, acd_call.state.value)
                self.announcer.watch(call_id)
