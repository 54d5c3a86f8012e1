"""Position and expected wait for callers waiting on Asterisk, driven over AMI.

A caller the IVR queued waits with music (the incoming or hold context). For each waiting
caller of a queue, at the queue's `announce` interval (the first one after
`min(interval, FIRST_AFTER)` seconds, so the IVR's own last words are not cut, and at once
when an offer rang out and the caller is back on hold), Hotline asks the core's
`WaitEstimator` what the caller hears (position, and the expected wait while the queue's
estimates have been reliable), renders that sentence in the caller's language with
espeak-ng into the prompts folder (content-addressed: each sentence once), sets
`HOTLINE_ANNOUNCE` on the channel (`Setvar`) and Redirects it to `<hold context>,announce,1`,
which plays the file and goes back to music on hold (asterisk/confgen.py writes it).

Actions go through `CallControl`'s per-call lock, in the order the core decided them: an
offer made meanwhile (Redirect to the connect context) runs after, and the announcement is
skipped when the call is no longer waiting once its turn comes. Without `prompts_dir`
nothing can be rendered for Asterisk and nothing is announced (logged once).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acd.call import CallState
from acd.clock import Timer
from acd.engine import Acd
from acd.events import CallAbandoned, CallAssigned, CallEnded, CallQueued, CallRingNoAnswer, Event
from acd.wait_estimate import Announcement, WaitEstimator
from asterisk.errors import AmiError
from asterisk.settings import AsteriskSettings
from prompts.hold import hold_text
from prompts.render import PromptError, render_now

if TYPE_CHECKING:
    from asterisk.control import ActionSender

log = logging.getLogger("hotline.asterisk.announce")

FIRST_AFTER = 10.0  # seconds: the first announcement, when the interval is longer
VARIABLE = "HOTLINE_ANNOUNCE"
EXTEN = "announce"

Render = Callable[[Path, str, str], Awaitable[str]]
Spawn = Callable[[str, Coroutine[Any, Any, None]], None]


class HoldAnnouncer:
    """Timers per waiting caller -> estimator -> rendered sentence -> Setvar + Redirect."""

    def __init__(
        self, acd: Acd, settings: AsteriskSettings, ami: ActionSender, estimator: WaitEstimator, *,
        spawn: Spawn, channel_of: Callable[[str], str | None], render: Render = render_now,
        in_app: Callable[[str], Awaitable[None]] | None = None,
        leaving_app: Callable[[str], None] | None = None,
    ) -> None:
        self.acd = acd
        self.settings = settings
        self.ami = ami
        self.estimator = estimator
        self._spawn = spawn
        self._channel_of = channel_of
        self._render = render
        # CallControl's guard: a Redirect only while the channel runs an application (not
        # right after another Redirect, while Asterisk walks to its target).
        self._in_app = in_app
        self._leaving_app = leaving_app
        self._timers: dict[str, Timer] = {}
        self._warned = False
        self.played: list[tuple[str, str]] = []  # (call id, file) announced, latest last (for tests, metrics)
        self.on_told: Callable[[str], None] | None = None  # a call was told (before any rendering)
        self._unsubscribe = acd.subscribe(
            self.on_acd_event, (CallQueued, CallRingNoAnswer, CallAssigned, CallAbandoned, CallEnded)
        )

    def close(self) -> None:
        self._unsubscribe()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def on_acd_event(self, event: Event) -> None:
        call_id = getattr(event, "call_id", "")
        if isinstance(event, CallQueued | CallRingNoAnswer):
            if self._channel_of(call_id) is None:
                return  # not a caller channel of this adapter (a callback, a Twilio call)
            interval = self.estimator.config(event.queue).interval
            self._arm(call_id, min(interval, FIRST_AFTER) if isinstance(event, CallQueued) else 0.0)
        else:
            self._disarm(call_id)

    def watch(self, call_id: str) -> None:
        """A waiting caller taken back after a restart: announcements go on."""
        call = self.acd.calls.get(call_id)
        if call is not None and call.state is CallState.QUEUED:
            self._arm(call_id, min(self.estimator.config(call.queue).interval, FIRST_AFTER))

    def _arm(self, call_id: str, delay: float) -> None:
        self._disarm(call_id)
        self._timers[call_id] = self.acd.clock.call_later(delay, lambda: self._tick(call_id))

    def _disarm(self, call_id: str) -> None:
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()

    def _tick(self, call_id: str) -> None:
        self._timers.pop(call_id, None)
        call = self.acd.calls.get(call_id)
        if call is None or call.state is not CallState.QUEUED or self._channel_of(call_id) is None:
            return
        if self.estimator.due(call_id, self.acd.clock.now()):
            told = self.estimator.announce(call_id)
            if self.on_told is not None:
                self.on_told(call_id)
            if told is not None and told.position > 0:
                self._spawn(call_id, self._play(call_id, told, call.language))
        self._arm(call_id, self.estimator.config(call.queue).interval)

    async def _play(self, call_id: str, told: Announcement, language: str) -> None:
        folder = self.settings.prompts_dir
        if folder is None:
            if not self._warned:
                log.warning("no asterisk.prompts_dir: callers on hold hear no position or expected wait")
                self._warned = True
            return
        spoken, text = hold_text(language, told.position, told.minutes())
        try:
            name = await self._render(folder, spoken, text)
        except (PromptError, OSError) as exc:
            log.warning("call %s: hold announcement not rendered: %s", call_id, exc)
            return
        prefix = self.settings.sounds_prefix.strip("/")
        sound = f"{prefix}/{name}" if prefix else name
        channel = self._channel_of(call_id)
        call = self.acd.calls.get(call_id)
        if channel is None or call is None or call.state is not CallState.QUEUED:
            return  # offered or gone while rendering
        try:
            await self.ami.action("Setvar", {"Channel": channel, "Variable": VARIABLE, "Value": sound})
            call = self.acd.calls.get(call_id)
            if call is None or call.state is not CallState.QUEUED:
                return
            if self._in_app is not None:
                await self._in_app(call_id)
                call = self.acd.calls.get(call_id)
                if call is None or call.state is not CallState.QUEUED:
                    return
            if self._leaving_app is not None:
                self._leaving_app(call_id)  # until its music starts again
            await self.ami.action(
                "Redirect", {"Channel": channel, "Context": self.settings.contexts.hold, "Exten": EXTEN, "Priority": "1"}
            )
        except AmiError as exc:
            log.info("call %s: hold announcement not played: %s", call_id, exc)
            return
        self.played.append((call_id, sound))
        del self.played[:-100]
