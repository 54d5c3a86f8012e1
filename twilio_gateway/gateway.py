"""The Twilio gateway: one object per server that turns Twilio's webhooks into IVR runs and
ACD commands, and the ACD's decisions into TwiML and REST calls.

A call's life, and which webhook drives it:
  voice           new call: an IVR task starts with a `TwilioChannel`; its first TwiML answers.
  gather/resume   answers and continuations of IVR questions (see `twilio_gateway.channel`).
  stream          the Media Stream of a speech question (`twilio_gateway.routes`).
  (IVR transfer)  `Acd.arrive`; the caller hears hold TwiML, or the <Dial> if an agent is free.
  hold            the end of a round of hold music: position and expected wait again.
  CallAssigned    REST update of the live call to a <Dial> of the agent's SIP URI / identity.
  agent           the agent leg answered: `Acd.answer`.
  dial            the <Dial> ended: talked -> `Acd.end`; busy/no answer -> `Acd.ring_no_answer`
                  and back to hold at the same place. The ACD's own ring timer does the same
                  through a REST update.
  status          the call ended: in the IVR -> CallerHangup; waiting or ringing ->
                  `Acd.abandon`; talking -> `Acd.end`.
  recording       download the recording into the store, link it to the call.
  callback        status of an outbound callback call (agent first, then the customer).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

from acd.call import CallState
from acd.clock import Clock
from acd.engine import Acd
from acd.events import (
    CallAbandoned,
    CallAssigned,
    CallbackOffered,
    CallRingNoAnswer,
    CallTransferred,
)
from acd.wait_estimate import Announcements, WaitEstimator
from hotline.logs import bind_call, printable
from hotline.ports import CallRecorder
from hotline.privacy import mask_phone
from ivr.channel import Input, Prompt
from ivr.events import IvrEvent, IvrOutcome
from ivr.speech import Recognition, Recognizer
from recordings.registry import RecordingRegistry
from twilio_gateway.acd_ops import AcdOps, LocalOps
from twilio_gateway.call import TERMINAL_STATUSES, Phase, TwilioCall, caller_number
from twilio_gateway.callback import CALLBACK_SOURCE, TwilioCallbacks
from twilio_gateway.channel import TwilioChannel
from twilio_gateway.conference import TwilioConferences
from twilio_gateway.decisions import AcdDecisions
from twilio_gateway.errors import RecordingDownloadError, TwilioApiError
from twilio_gateway.ivr_runs import IvrRuns
from twilio_gateway.recording import MediaFetcher, RecordingSaver, download_recording
from twilio_gateway.rest import TwilioCalls
from twilio_gateway.settings import SpeechMode, TwilioSettings
from twilio_gateway.transfer import TwilioTransfers
from twilio_gateway.twiml import render_dial, render_hangup, render_hold

log = logging.getLogger("hotline.twilio")

SORRY: Mapping[str, str] = {
    "ko": "죄송합니다. 지금은 연결할 수 없습니다. 나중에 다시 걸어 주십시오.",
    "en": "Sorry, we cannot take your call right now. Please call again later.",
    "zh": "抱歉，目前无法接通，请稍后再拨。",
}


class IvrRunner(Protocol):
    """Runs the IVR for one call over `channel` (`twilio_gateway.app.MenuRunner`), from the
    menu's start or from one of its entries (`start`, e.g. "survey")."""

    def __call__(
        self, channel: TwilioChannel, on_event: Callable[[IvrEvent], None], start: str | None = None
    ) -> Awaitable[IvrOutcome]: ...

    def has_entry(self, channel: TwilioChannel, entry: str) -> bool: ...


class TwilioGateway:
    def __init__(
        self,
        settings: TwilioSettings,
        acd: Acd,
        *,
        ivr: IvrRunner,
        calls: TwilioCalls,
        clock: Clock,
        recognizer: Recognizer | None = None,
        recorder: CallRecorder | None = None,
        recordings: RecordingSaver | None = None,
        registry: RecordingRegistry | None = None,
        fetcher: MediaFetcher | None = None,
        on_ivr_event: Callable[[IvrEvent], None] | None = None,
        estimator: WaitEstimator | None = None,
        acting: Callable[[], bool] = lambda: True,
        ops: AcdOps | None = None,
    ) -> None:
        """`acting`: this process runs the ACD (a cluster follower's ACD is a replica of the
        leader's: its decisions are the leader's to carry out); `ops`: where the ACD's
        operations run (here by default; the leader's when a follower serves the webhooks)."""
        self.acting = acting
        self.ops: AcdOps = ops or LocalOps(acd)
        self.settings = settings
        self.on_ivr_event = on_ivr_event
        self.acd = acd
        self.ivr = ivr
        self.rest = calls
        self.clock = clock
        self.recognizer = recognizer
        self.recorder = recorder
        self.recordings = recordings
        self.registry = registry
        self.fetcher = fetcher
        self.calls: dict[str, TwilioCall] = {}
        # Position and expected wait on hold; queues without `announce` use its defaults,
        # with `average_handle_time` until they have handle times of their own.
        self.estimator = estimator or WaitEstimator(acd, {
            q.name: q.announce or Announcements(default_handle=settings.average_handle_time)
            for q in acd.queues.values()
        })
        self.recorded: deque[tuple[str, str]] = deque(maxlen=100)  # (call id, uri), latest
        self._tasks: set[asyncio.Task[Any]] = set()  # everything, IVR runs included
        self._work: set[asyncio.Task[Any]] = set()  # REST calls, downloads
        self.transfers = TwilioTransfers(self)  # blind transfers (twilio_gateway/transfer.py)
        self.ivr_runs = IvrRuns(self)  # the IVR part of each call (ivr_runs.py)
        self.decisions = AcdDecisions(self)  # the ACD's decisions carried out (decisions.py)
        self._unsubscribe = acd.subscribe(
            self.decisions.on_acd_event, kinds=(CallAssigned, CallRingNoAnswer, CallAbandoned, CallbackOffered,
                                       CallTransferred)
        )
        self.conferences = TwilioConferences(self)  # third parties, supervisors (conference.py)
        self.callbacks = TwilioCallbacks(self)  # fair callbacks (callback.py, acd/callbacks.py)
        if recognizer is not None and settings.speech is SpeechMode.STREAM:
            self.speech_languages: frozenset[str] | None = frozenset(recognizer.languages())
        elif settings.speech is SpeechMode.TWILIO:
            self.speech_languages = None
        else:
            self.speech_languages = frozenset()

    # -- lifecycle -----------------------------------------------------------------------

    async def close(self) -> None:
        """Stop listening to the ACD, end IVR runs, wait for background work."""
        self._unsubscribe()
        self.callbacks.close()
        self.conferences.close()
        self.estimator.close()
        for call in list(self.calls.values()):
            call.channel.caller_gone("server stopping")
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def drain(self) -> None:
        """Wait until the background work (REST calls, downloads) started so far is done;
        IVR runs, which wait for callers, are not waited for."""
        while self._work:
            await asyncio.gather(*list(self._work), return_exceptions=True)

    def _spawn(
        self, coro: Coroutine[Any, Any, Any], what: str, sid: str, *, work: bool = True
    ) -> asyncio.Task[Any]:
        """A task about call `sid` (its log lines say so, whichever request started it)."""
        context = contextvars.copy_context()
        context.run(bind_call, sid, "")
        task = asyncio.create_task(coro, name=f"twilio-{what}-{sid}", context=context)
        for group in (self._tasks, self._work) if work else (self._tasks,):
            group.add(task)
            task.add_done_callback(group.discard)
        return task

    # -- webhooks ------------------------------------------------------------------------

    async def incoming(self, sid: str, caller: str, dialed: str) -> str:
        caller = caller_number(caller)
        call = self.calls.get(sid)
        if call is not None:  # Twilio retried the first webhook: answer with what is current
            return await self._current(call)
        channel = TwilioChannel(
            sid,
            caller=caller or None,
            dialed=dialed or None,
            settings=self.settings,
            clock=self.clock,
            on_transfer=self.ivr_runs.transfer,
            speech_languages=self.speech_languages,
        )
        call = self.calls[sid] = TwilioCall(sid, caller, dialed, channel)
        log.info("twilio call %s from %s to %s", sid, mask_phone(caller), printable(dialed))
        if self.recorder is not None:  # before the IVR: a call ending there keeps its record
            self.recorder.record_call_start(
                sid, source="twilio", caller=caller, dialed=dialed, at=self.clock.now()
            )
        call.task = self._spawn(self.ivr_runs.run(call), "ivr", sid, work=False)
        return await channel.next_document()

    async def _current(self, call: TwilioCall) -> str:
        """What the call is executing now, for a webhook that brings nothing new: the IVR's
        open question or next document; once the IVR is over, at once, the <Dial> of the
        ringing agent or the hold loop (the IVR has no document to give any more)."""
        if call.phase is Phase.IVR:
            return await call.channel.current_document()
        if call.phase is Phase.WAITING:
            acd_call = self.acd.calls.get(call.sid)
            if acd_call is not None and acd_call.state is CallState.RINGING and acd_call.agent_id:
                document = self._dial_document(call, acd_call.agent_id, [])
                if document is not None:
                    return document
            return self._hold_document(call, [])
        if call.phase is Phase.TALKING:
            return self._hold_document(call, [])  # the agent leg is bridged by REST, not this TwiML
        return self._unknown(call.sid, call)

    async def gather(self, sid: str, step: int, answer: Input) -> str:
        call = self.calls.get(sid)
        if call is not None and call.phase is Phase.WAITING:
            return self._hold_document(call, [])  # a late answer: the caller is already waiting
        if call is None or call.phase is not Phase.IVR:
            return self._unknown(sid, call)
        return await call.channel.answer(step, answer)

    async def resume(self, sid: str, step: int | None) -> str:
        call = self.calls.get(sid)
        if call is None:
            return self._unknown(sid, call)
        if call.phase is Phase.IVR:
            if step is not None:  # the stream ended; if it brought no answer, there was none
                return await call.channel.answer(step, Input.none())
            return await call.channel.next_document()
        return self._hold_document(call, [])

    def _adopt(self, sid: str) -> TwilioCall | None:
        """A call the ACD has from before a restart (restored from its journal) whose webhooks
        reach this process again: take it back where the ACD has it, so the caller keeps the
        call and the place."""
        acd_call = self.acd.calls.get(sid)
        if acd_call is not None and acd_call.source == CALLBACK_SOURCE and sid not in self.calls and self.acting():
            return self.callbacks.adopt(acd_call)
        if acd_call is None or acd_call.source != "twilio" or sid in self.calls or not self.acting():
            return self.calls.get(sid)
        channel = TwilioChannel(
            sid, caller=acd_call.caller or None, dialed=acd_call.dialed or None, settings=self.settings,
            clock=self.clock, on_transfer=self.ivr_runs.transfer, speech_languages=self.speech_languages,
        )
        phase = Phase.TALKING if acd_call.state is CallState.ON_CALL else Phase.WAITING
        call = self.calls[sid] = TwilioCall(sid, acd_call.caller, acd_call.dialed, channel, phase=phase,
                                            language=acd_call.language, agent_id=acd_call.agent_id)
        log.info("twilio call %s: taken back from before the restart (%s)", sid, acd_call.state.value)
        return call

    async def hold(self, sid: str) -> str:
        call = self.calls.get(sid) or self._adopt(sid)
        if call is not None and call.phase is Phase.IVR:  # a callback offer began meanwhile
            return await call.channel.current_document()
        if call is None or call.phase is not Phase.WAITING:
            return self._unknown(sid, call)
        self._arm_hold(call)
        return self._hold_document(call, [])

    async def dial_ended(self, sid: str, dial_status: str, agent_id: str | None = None) -> str:
        """The <Dial> action: how the agent leg ended. `agent_id` (from the action URL) keeps a
        late report about an earlier agent from touching a call now ringing another one."""
        call = self.calls.get(sid) or self._adopt(sid)
        if call is None:
            return render_hangup([], self.settings)
        acd_call = self.acd.calls.get(sid)
        if acd_call is not None and agent_id is not None and acd_call.agent_id not in ("", agent_id):
            acd_call = None if acd_call.state is not CallState.RINGING else acd_call
            if acd_call is not None:
                return self._hold_document(call, [])  # stale: another agent is ringing now
        if dial_status in ("completed", "answered"):
            if acd_call is not None and acd_call.state is CallState.RINGING:
                self.ops.answer(sid)  # the answered report was lost; the talk happened
            if acd_call is not None and acd_call.state is CallState.ON_CALL:
                self.ops.end(sid)
            entry = self.settings.survey_entry
            if entry and call.phase is not Phase.OVER and self.ivr.has_entry(call.channel, entry):
                return await self.ivr_runs.survey(call, entry)
            self._forget(call)
            return render_hangup([], self.settings)
        if acd_call is not None and acd_call.state is CallState.RINGING:
            call.dial_answered = True
            try:
                self.ops.ring_no_answer(sid)
            finally:
                call.dial_answered = False
        if sid not in self.acd.calls:
            self._forget(call)
            return render_hangup([], self.settings)
        call.phase = Phase.WAITING
        self._arm_hold(call)
        return self._hold_document(call, [])

    def agent_answered(self, sid: str, leg_status: str, agent_id: str | None = None) -> None:
        """Status of the agent leg (<Sip>/<Client> statusCallback): answered -> talking."""
        call = self.calls.get(sid) or self._adopt(sid)
        acd_call = self.acd.calls.get(sid)
        if call is None or acd_call is None or leg_status not in ("in-progress", "answered"):
            return
        if agent_id is not None and acd_call.agent_id != agent_id:
            return  # an earlier agent's leg (the call was taken back from them)
        if acd_call.state is CallState.RINGING:
            self.ops.answer(sid)
            call.phase = Phase.TALKING
            self._disarm_hold(call)

    def status(self, sid: str, status: str) -> None:
        """The call's status callback: a terminal status means the caller is gone."""
        if status not in TERMINAL_STATUSES:
            return
        call = self.calls.get(sid) or self._adopt(sid)
        if call is None and not self.acting():  # the leader's call: end it there
            acd_call = self.acd.calls.get(sid)
            if acd_call is not None and acd_call.source == "twilio":
                channel = TwilioChannel(sid, caller=None, dialed=None, settings=self.settings, clock=self.clock,
                                        on_transfer=self.ivr_runs.transfer, speech_languages=self.speech_languages)
                call = TwilioCall(sid, acd_call.caller, acd_call.dialed, channel, phase=Phase.WAITING)
        if call is None or call.phase is Phase.CALLBACK:
            return
        self._caller_gone(call, status)

    def recording(self, sid: str, status: str, url: str) -> None:
        if status != "completed" or not url:
            return
        if self.recordings is None or self.fetcher is None:
            log.warning("twilio call %s: recording announced but no recording store", sid)
            return
        self._spawn(self._download(sid, url), "recording", sid)

    def callback_status(self, sid: str, leg_status: str, leg: str = "") -> None:
        """Status of an outbound callback call (the agent's leg, which then dials the customer);
        reports about an earlier, cancelled leg are ignored."""
        call = self.calls.get(sid)
        acd_call = self.acd.calls.get(sid)
        if call is None or acd_call is None or (leg and call.callback_leg and leg != call.callback_leg):
            return
        if leg_status in ("in-progress", "answered"):
            if acd_call.state is CallState.RINGING:
                self.ops.answer(sid)
                call.phase = Phase.TALKING
        elif leg_status in TERMINAL_STATUSES:
            if acd_call.state is CallState.ON_CALL:
                self.ops.end(sid, self.callbacks.disposition(sid))
                self._forget(call)
            elif acd_call.state is CallState.RINGING:
                self.ops.ring_no_answer(sid)

    def barge_in(self, sid: str) -> None:
        """Voice heard during a prompt: stop the prompt by moving the call to `resume`, which
        waits for the IVR's next document (the recognition result is on its way)."""
        if sid in self.calls:
            self._spawn(self._redirect(sid, self.settings.url("resume", call=sid)), "barge", sid)

    async def _hangup_leg(self, sid: str, leg: str) -> None:
        try:
            await self.rest.hangup(leg)
        except TwilioApiError as exc:
            log.warning("twilio callback %s: hanging up the agent leg failed: %s", sid, exc)

    async def _redirect(self, sid: str, url: str) -> None:
        try:
            await self.rest.redirect(sid, url)
        except TwilioApiError as exc:
            log.warning("twilio call %s: redirect failed: %s", sid, exc)

    def stream_question(self, sid: str, step: int) -> TwilioCall | None:
        """The call whose open question `step` a Media Stream is for, if any."""
        call = self.calls.get(sid)
        if call is None or call.phase is not Phase.IVR:
            return None
        question = call.channel.question
        if question is None or question.step != step or question.answer.done():
            return None
        return call

    async def _download(self, sid: str, url: str) -> None:
        assert self.recordings is not None and self.fetcher is not None
        try:
            info = await download_recording(
                self.settings, self.fetcher, self.recordings, self.registry, sid, url
            )
        except RecordingDownloadError as exc:
            log.error("twilio call %s: recording not stored: %s", sid, printable(exc))
            return
        self.recorded.append((sid, info.uri))

    # -- helpers -------------------------------------------------------------------------

    def _caller_gone(self, call: TwilioCall, status: str) -> None:
        acd_call = self.acd.calls.get(call.sid)
        if call.phase is Phase.IVR:
            call.channel.caller_gone(f"call {status}")
            if call.task is None or call.task.done():
                self._forget(call)
            return
        self._forget(call)
        if acd_call is None:
            return
        if acd_call.state in (CallState.QUEUED, CallState.RINGING):
            self.ops.abandon(call.sid, "caller_hangup")
        elif acd_call.state is CallState.ON_CALL:
            self.ops.end(call.sid)

    def _arm_hold(self, call: TwilioCall) -> None:
        self._disarm_hold(call)
        call.watchdog = self.clock.call_later(self.settings.hold_timeout, lambda: self._hold_lost(call))

    def _disarm_hold(self, call: TwilioCall) -> None:
        if call.watchdog is not None:
            call.watchdog.cancel()
            call.watchdog = None

    def _hold_lost(self, call: TwilioCall) -> None:
        """No hold webhook for `hold_timeout`: the call is gone without a status callback
        (or Twilio stopped calling us). The ACD gives it up; a REST hang-up follows."""
        call.watchdog = None
        if call.phase is not Phase.WAITING or self.calls.get(call.sid) is not call:
            return
        log.warning("twilio call %s: no hold webhook for %.0f s, dropped", call.sid,
                    self.settings.hold_timeout)
        acd_call = self.acd.calls.get(call.sid)
        if acd_call is not None and acd_call.state in (CallState.QUEUED, CallState.RINGING):
            self.ops.abandon(call.sid, "lost")
        else:
            self._forget(call)

    def _forget(self, call: TwilioCall) -> None:
        self._disarm_hold(call)
        call.phase = Phase.OVER
        if self.calls.get(call.sid) is call:
            del self.calls[call.sid]

    def _hold_document(self, call: TwilioCall, prompts: list[Prompt]) -> str:
        """Hold music, with the position and expected wait when the queue's `announce`
        interval says so (acd/wait_estimate.py: the wait only while it has been reliable)."""
        told = None
        if call.sid in self.acd.calls and self.estimator.due(call.sid, self.clock.now()):
            told = self.estimator.announce(call.sid)
        return render_hold(
            prompts,
            position=told.position if told is not None else 0,
            expected_wait=told.expected_wait if told is not None else None,
            language=call.language,
            hold_url=self.settings.url("hold", call=call.sid),
            settings=self.settings,
        )

    def _dial_document(self, call: TwilioCall, agent_id: str, prompts: list[Prompt]) -> str | None:
        target = self.settings.agents.get(agent_id)
        if target is None:
            return None
        s = self.settings
        return render_dial(
            prompts,
            target=target,
            language=call.language,
            action_url=s.url("dial", call=call.sid, agent=agent_id),
            agent_status_url=s.url("agent", call=call.sid, agent=agent_id),
            recording_url=s.url("recording", call=call.sid) if s.record else None,
            settings=s,
        )

    def _sorry(self, language: str) -> list[Prompt]:
        lang = language if language in SORRY else "en"
        return [Prompt(SORRY[lang], lang)]

    def _unknown(self, sid: str, call: TwilioCall | None) -> str:
        log.info("twilio call %s: webhook for a call not in the IVR/queue (%s)", sid,
                 call.phase.value if call else "unknown")
        return render_hangup([], self.settings)


def recognition(text: str, confidence: str) -> Recognition:
    """A Twilio <Gather input=speech> result as our Recognition."""
    try:
        value = float(confidence)
    except ValueError:
        value = 0.0
    return Recognition(text.strip(), value)
