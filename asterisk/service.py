"""The Asterisk adapter as one running service, and its entry point for the server.

    async with running(AsteriskService(settings, acd, menus, clock=clock, recognizer=recognizer,
                                       writer=call_writer, recordings=recording_store)) as service:
        ...   # AMI connected in the background (reconnects by itself); FastAGI listening

For aiohttp: `app.cleanup_ctx.append(cleanup_ctx(lambda app: AsteriskService(...)))`; the
running service is then `app[ASTERISK_KEY]`. The service owns: the AMI client (events -> CallControl, resync
on every connect), the FastAGI server (one IVR run per call), the call control, and the hand-off
of finished recordings to the recording store and case store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from acd.clock import Clock
from acd.engine import Acd
from asterisk.agi_channel import AgiChannel
from asterisk.ami_client import AmiClient
from asterisk.confgen import SURVEY_SCRIPT
from asterisk.control import AsteriskCall, CallControl
from asterisk.errors import AmiError, CallControlError
from asterisk.fastagi import AgiSession, FastAgiServer
from asterisk.handover import Handover, LocalHandover
from asterisk.live_speech import live_speech
from asterisk.settings import AsteriskSettings
from hotline.logs import bind_call
from hotline.ports import CallRecorder
from hotline.privacy import mask_phone
from ivr.channel import ChannelError, TransferRequest
from ivr.directory import CustomerDirectory
from ivr.emergency import EmergencyState
from ivr.events import IvrOutcome, OutcomeKind
from ivr.interpreter import IvrSettings, run_menu
from ivr.registry import MenuRegistry
from ivr.speech import Recognizer
from recordings.registry import store_recording
from recordings.store import FilesystemRecordingStore, RecordingInfo

log = logging.getLogger("hotline.asterisk")


CallbackHook = Callable[[str, TransferRequest], None]  # told after a callback was queued
RUNS_KEPT = 1000  # finished IVR runs kept in `AsteriskService.runs` (tests, the API)


@dataclass
class IvrRun:
    call_id: str
    outcome: IvrOutcome | None = None
    error: str = ""
    done: asyncio.Event = field(default_factory=asyncio.Event)


class AsteriskService:
    def __init__(
        self,
        settings: AsteriskSettings,
        acd: Acd,
        menus: MenuRegistry,
        *,
        clock: Clock,
        recognizer: Recognizer | None = None,
        writer: CallRecorder | None = None,
        recordings: FilesystemRecordingStore | None = None,
        directory: CustomerDirectory | None = None,
        emergency: EmergencyState | None = None,
        ivr_settings: IvrSettings | None = None,
        on_callback: CallbackHook | None = None,
        before_action: Callable[[], Awaitable[Any]] | None = None,
        handover: Handover | None = None,
        serve_agi: bool = True,
        serve_ami: bool = True,
    ) -> None:
        """`serve_agi`/`serve_ami` (cluster mode): every node serves FastAGI (the IVR) with a
        `handover` to the leader; only the leader runs the AMI link and call control."""
        self.settings = settings
        self.serve_agi = serve_agi
        self.serve_ami = serve_ami
        self.acd = acd
        self.menus = menus
        self.clock = clock
        self.recognizer = recognizer
        self.writer = writer
        self.recordings = recordings
        self.directory = directory
        self.emergency = emergency
        self.ivr_settings = ivr_settings or IvrSettings()
        self.on_callback = on_callback
        self.ami = AmiClient(settings.ami, lambda m: self.control.handle_ami(m), on_connect=self._on_connect)
        self.control = CallControl(acd, settings, self.ami, on_closed=self._on_closed, on_booted=self._booted,
                                   before_action=before_action, listen=serve_ami)
        self.handover: Handover = handover or LocalHandover(self.control)
        self.agi = FastAgiServer(
            self.handle_call, settings.fastagi.host, settings.fastagi.port,
            max_sessions=settings.fastagi.max_sessions, secret=settings.fastagi.secret,
        )
        self.live = live_speech(settings) if recognizer is not None else None
        self.runs: dict[str, IvrRun] = {}  # IVR runs in progress and the last RUNS_KEPT finished
        self.resyncs = 0  # resyncs run (on every login, again on FullyBooted or after a refused list)
        self._resync_lock = asyncio.Lock()
        self._retry: asyncio.Task[None] | None = None
        self.stored: dict[str, RecordingInfo] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self.serve_agi:
            if self.live is not None:
                await self.live.server.start()
            await self.agi.start()
        if self.serve_ami:
            self.ami.start()

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        if self.serve_agi:
            await self.agi.close()
            if self.live is not None:
                await self.live.server.close()
        if self.serve_ami:
            await self.ami.stop()
        self.control.close()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def drain(self) -> None:
        """Wait for background work in flight (AMI actions, recordings being stored)."""
        await self.control.drain()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _on_connect(self, client: AmiClient) -> None:
        await self._resync(client, retry=True)

    async def _resync(self, client: AmiClient, *, retry: bool) -> None:
        async with self._resync_lock:
            self.resyncs += 1
            complete = await self.control.resync(client)
        if not complete and retry and (self._retry is None or self._retry.done()):
            self._retry = self._spawn(self._resync_later(client))

    async def _resync_later(self, client: AmiClient, attempts: int = 5, delay: float = 2.0) -> None:
        """Asterisk refused a list (still booting): resync again until it answers them all."""
        for _ in range(attempts):
            await asyncio.sleep(delay)
            if not client.ready.is_set():
                return  # the next login resyncs
            try:
                async with self._resync_lock:
                    self.resyncs += 1
                    if await self.control.resync(client):
                        return
            except AmiError as exc:
                log.warning("resync retry failed: %s", exc)
                return  # the link dropped: the next login resyncs

    def _booted(self) -> None:
        """FullyBooted: what Asterisk refused while booting is there now."""
        if self.ami.ready.is_set():
            self._spawn(self._resync_guarded())

    async def _resync_guarded(self) -> None:
        try:
            await self._resync(self.ami, retry=True)
        except AmiError as exc:
            log.warning("resync after FullyBooted failed: %s", exc)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- recordings: API for the agents' panel (card numbers) --------------------------------

    async def pause_recording(self, call_id: str) -> None:
        await self.control.pause_recording(call_id)

    async def resume_recording(self, call_id: str) -> None:
        await self.control.resume_recording(call_id)

    def _on_closed(self, call: AsteriskCall, how: str) -> None:
        if call.recording is None or self.recordings is None or self.writer is None:
            return
        self._spawn(self._store_recording(call.call_id, call.recording))

    async def _store_recording(self, call_id: str, path: Path, attempts: int = 5) -> None:
        assert self.recordings is not None and self.writer is not None
        delay = 0.2
        for attempt in range(attempts):
            if await asyncio.to_thread(path.exists):
                break
            if attempt == attempts - 1:
                log.error("call %s: recording %s never appeared", call_id, path.name)
                return
            await asyncio.sleep(delay)  # MixMonitor closes the file just after the hang-up
            delay *= 2
        try:
            info = await store_recording(self.recordings, self.writer, call_id, path, move=True)
        except OSError as exc:
            log.error("call %s: cannot store recording %s: %s", call_id, path.name, exc)
            return
        self.stored[call_id] = info
        log.info("call %s: recording stored as %s", call_id, info.uri)

    # -- one call over FastAGI -----------------------------------------------------------------

    async def _callback_arrives(self, channel: AgiChannel, request: TransferRequest) -> None:
        """The caller accepted a callback: keep their place; the agent is rung first later."""
        assert request.callback_number is not None
        try:
            await self.handover.callback(
                channel.call_id, request.queue, request.callback_number, dialed=channel.dialed or "",
                language=request.language, priority=request.priority, tier=request.tier, skills=request.skills,
            )
        except CallControlError as exc:
            log.error("%s", exc)
            raise ChannelError(str(exc)) from exc

    async def handle_call(self, session: AgiSession) -> None:
        channel = AgiChannel(session, self.settings, recognizer=self.recognizer, on_callback=self._callback_arrives,
                             clock_now=self.clock.now, live=self.live)
        bind_call(channel.call_id)  # every line this session logs is about its call
        if session.script == SURVEY_SCRIPT:
            await self._run_survey(channel)
            return
        run = self.runs[channel.call_id] = IvrRun(channel.call_id)
        self._prune_runs()
        if self.writer is not None:  # before the IVR: a call ending there keeps its record
            self.writer.record_call_start(
                channel.call_id, source="asterisk", caller=channel.caller or "",
                dialed=channel.dialed or "", at=self.clock.now(),
            )
        try:
            await self._run_ivr(session, channel, run)
        finally:
            run.done.set()

    def _prune_runs(self) -> None:
        if len(self.runs) <= RUNS_KEPT:
            return
        for call_id in [k for k, r in self.runs.items() if r.done.is_set()][: len(self.runs) - RUNS_KEPT]:
            del self.runs[call_id]

    async def _run_survey(self, channel: AgiChannel) -> None:
        """The agent hung up first (Dial option g): end the talk, then the menu's survey entry."""
        talked = await self.handover.agent_left(channel.call_id)
        entry = self.settings.survey_entry
        dialed = talked[0] if talked else (channel.dialed or "")
        menu = self.menus.active(self.settings.menu_for(dialed))
        if talked is None or not entry or menu is None or entry not in menu.entries:
            log.info("call %s: agent hung up first; no survey", channel.call_id)
            return
        log.info("call %s: agent hung up first; survey %s", channel.call_id, entry)
        on_event = self.writer.on_ivr_event if self.writer is not None else None
        outcome = await run_menu(
            menu, channel, clock=self.clock, directory=self.directory, emergency=self.emergency,
            on_event=on_event, settings=self.ivr_settings, language=talked[1] or None, start=entry,
        )
        log.info("call %s: survey ended: %s %s", channel.call_id, outcome.kind.value, outcome.reason)
        with contextlib.suppress(Exception):
            await channel.hangup()

    async def _run_ivr(self, session: AgiSession, channel: AgiChannel, run: IvrRun) -> None:
        name = self.settings.menu_for(channel.dialed)
        menu = self.menus.active(name)
        if menu is None:
            run.error = f"no active menu {name!r}"
            log.error("call %s: %s; hanging up", channel.call_id, run.error)
            if self.writer is not None:  # close the record opened above
                self.writer.on_ivr_event(IvrOutcome(
                    self.clock.now(), channel.call_id, name or "", 0, OutcomeKind.FAILED, "",
                    reason="no_active_menu",
                ))
            with contextlib.suppress(Exception):
                await channel.hangup()
            return
        log.info("call %s from %s on %s: menu %s v%s", channel.call_id,
                 mask_phone(channel.caller or ""), channel.dialed, menu.name, menu.version)

        on_event = self.writer.on_ivr_event if self.writer is not None else None
        outcome = await run_menu(
            menu, channel, clock=self.clock, directory=self.directory, emergency=self.emergency,
            on_event=on_event, settings=self.ivr_settings,
        )
        run.outcome = outcome
        request = channel.transfer_request
        if outcome.kind is OutcomeKind.TRANSFER and request is not None and request.callback_number is None:
            try:
                await self.handover.enqueue(
                    channel.call_id, channel.channel_name, request.queue, caller=channel.caller or "",
                    dialed=channel.dialed or "", language=request.language, priority=request.priority,
                    tier=request.tier, skills=request.skills,
                )
            except CallControlError as exc:
                run.error = str(exc)
                log.error("%s; hanging up rather than leaving the caller on hold", exc)
                await session.close()
                await self.handover.hangup(channel.channel_name, channel.call_id)
                return
            # Routed at once: its Redirect must land while the AGI still runs (Asterisk then
            # goes straight to the agent's extension), never while the dialplan moves on to
            # the music by itself: a Redirect landing between two priorities can leave the
            # channel at a location that does not exist, and Asterisk hangs up (defect 3).
            await self.handover.settle(channel.call_id, self.settings.ami.action_timeout)
            await session.close()  # the dialplan continues: music until the Redirect
        elif request is not None and request.callback_number is not None:
            await session.close()  # the dialplan hangs the caller up
            # Queued by `_callback_arrives` during the IVR.
            if self.on_callback is not None and outcome.kind is OutcomeKind.CALLBACK:
                self.on_callback(channel.call_id, request)
        else:
            await session.close()
            log.info("call %s: IVR ended: %s %s", channel.call_id, outcome.kind.value, outcome.reason)


@asynccontextmanager
async def running(service: AsteriskService) -> AsyncIterator[AsteriskService]:
    """Run the Asterisk adapter for the duration of the block (FastAGI up, AMI connecting)."""
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


ASTERISK_KEY = web.AppKey("asterisk", AsteriskService)


def cleanup_ctx(
    factory: Callable[[web.Application], AsteriskService],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp `cleanup_ctx` entry: `factory(app)` builds the service from the app's objects;
    it runs while the app does and is reachable as `app[ASTERISK_KEY]`."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        service = factory(app)
        await service.start()
        app[ASTERISK_KEY] = service
        try:
            yield
        finally:
            await service.stop()

    return ctx
