"""The IVR channel over a FastAGI session (ivr.channel.Channel).

play = STREAM FILE; digits = STREAM FILE with escape digits (barge-in) then WAIT FOR DIGIT per
digit; speech = RECORD FILE (ended by silence, a key or the maximum duration), then the file's
PCM fed to the recognizer; set_data = SET VARIABLE; transfer = SET VARIABLE of the queue data,
read back by the dialplan (caller parked in the hold context) and by a resync after a restart.

A hang-up (`200 result=-1`, the `HANGUP` line, `511`, or the socket closing) raises
`CallerHangup`; other AGI failures raise `ChannelError` with what Asterisk said.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from asterisk.agi_parser import AgiReply
from asterisk.channel_vars import (
    VAR_LANGUAGE,
    VAR_PRIORITY,
    VAR_QUEUE,
    VAR_QUEUED_AT,
    VAR_SKILLS,
    VAR_TIER,
    encode_skills,
)
from asterisk.fastagi import (
    AgiCommandError,
    AgiConnectionClosed,
    AgiDeadChannel,
    AgiError,
    AgiSession,
)
from asterisk.settings import AsteriskSettings
from hotline.phone import normalize_number
from ivr.channel import (
    CallerHangup,
    ChannelError,
    DigitSpec,
    Input,
    Prompt,
    SpeechSpec,
    TransferRequest,
)
from ivr.speech import Recognizer
from prompts.catalog import leaves_folder
from prompts.render import PromptError, recorded_file, render_now
from speech.listen import listen

if TYPE_CHECKING:
    from asterisk.live_speech import LiveSpeech

log = logging.getLogger("hotline.asterisk.agi")

# raises ChannelError if refused; may return an awaitable (the callback is queued on another node)
CallbackArrival = Callable[["AgiChannel", TransferRequest], "Awaitable[None] | None"]
DTMF_KEYS = "0123456789*#"
FRAME = 320  # 20 ms of 8 kHz 16-bit PCM
_VAR_NAME = re.compile(r"[^A-Z0-9_]")


class MissingAudio(Exception):
    """STREAM FILE found no such sound file (the channel is still up)."""


def quote(value: str) -> str:
    """An AGI argument in double quotes (Asterisk unescapes backslash and quote)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiChannel:
    def __init__(
        self,
        session: AgiSession,
        settings: AsteriskSettings,
        *,
        recognizer: Recognizer | None = None,
        on_callback: CallbackArrival | None = None,
        clock_now: Callable[[], float] = time.time,
        live: LiveSpeech | None = None,
    ) -> None:
        self.session = session
        self.live = live  # speech over AudioSocket (asterisk/live_speech.py); None: RECORD FILE
        self.clock_now = clock_now
        self.settings = settings
        self.recognizer = recognizer
        self.on_callback = on_callback
        env = session.env
        self._call_id = env.get("uniqueid")
        self.channel_name = env.get("channel")
        number = env.get("callerid")
        self._caller = None if number in ("", "unknown", "anonymous") else normalize_number(number) or None
        dnid = env.get("dnid")
        self._dialed = dnid if dnid not in ("", "unknown") else (env.get("extension") or None)
        self.transfer_request: TransferRequest | None = None
        self.data: dict[str, str] = {}
        self.missing_audio: list[str] = []
        self._records = 0

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def caller(self) -> str | None:
        return self._caller

    @property
    def dialed(self) -> str | None:
        return self._dialed

    # -- AGI plumbing ------------------------------------------------------------------------

    async def _cmd(self, line: str, within: float = 10.0, *, missing_file_ok: bool = False) -> AgiReply:
        if self.session.hung_up:
            raise CallerHangup("the caller hung up")
        within = min(within, self.settings.fastagi.command_timeout)
        try:
            reply = await self.session.command(line, within=within)
        except (AgiDeadChannel, AgiConnectionClosed) as exc:
            raise CallerHangup("the caller hung up", detail=str(exc)) from exc
        except AgiCommandError as exc:
            raise ChannelError(f"Asterisk refused {exc.command.split(' ', 1)[0]}", detail=exc.reply.text) from exc
        except AgiError as exc:
            raise ChannelError(str(exc)) from exc
        if self.session.hung_up:
            raise CallerHangup("the caller hung up", detail=reply.text)
        if reply.result == "-1":
            # Asterisk answers STREAM FILE of a missing file `200 result=-1 endpos=0` (and logs
            # "does not exist in any format"); a hang-up looks the same, so ask the channel.
            if missing_file_ok and reply.extra.get("endpos") == "0" and await self._alive():
                raise MissingAudio(line)
            raise CallerHangup("the caller hung up", detail=reply.text)
        return reply

    async def _alive(self) -> bool:
        try:
            reply = await self.session.command("CHANNEL STATUS", within=10.0)
        except AgiError:
            return False
        return not self.session.hung_up and reply.result_int >= 0

    async def _file(self, prompt: Prompt) -> str | None:
        """What to play: the recorded file if there is one, else the synthesized one
        (`hotline prompts build`; rendered now if missing, e.g. a supervisor's emergency
        announcement). Without `prompts_dir` only recorded files (`audio:`) are played."""
        name = await self._audio_name(prompt)
        if name is None:
            # Asterisk cannot speak text: the menu needs an audio file for this prompt.
            self.missing_audio.append(prompt.key or prompt.text[:40])
            log.warning("call %s: prompt %s has no audio file; skipped", self.call_id, prompt.key)
            return None
        prefix = self.settings.sounds_prefix.strip("/")
        return f"{prefix}/{name}" if prefix else name

    async def _audio_name(self, prompt: Prompt) -> str | None:
        folder = self.settings.prompts_dir
        recorded = prompt.audio if prompt.audio and not leaves_folder(prompt.audio) else None
        if folder is None:
            return recorded
        if recorded is not None and await asyncio.to_thread(recorded_file, folder, recorded) is not None:
            return recorded
        if not prompt.text.strip():
            return None
        try:
            return await render_now(folder, prompt.language, prompt.text)
        except (PromptError, OSError) as exc:
            log.warning("call %s: prompt %s could not be rendered: %s", self.call_id, prompt.key, exc)
            return recorded

    async def _stream(self, prompt: Prompt, escape: str) -> str:
        """Play one prompt; the key that interrupted it, or ''."""
        name = await self._file(prompt)
        if name is None:
            return ""
        try:
            reply = await self._cmd(f"STREAM FILE {name} {quote(escape)}", within=600.0, missing_file_ok=True)
        except MissingAudio:
            self.missing_audio.append(name)
            log.warning("call %s: prompt file %s missing on the PBX; skipped", self.call_id, name)
            return ""
        code = reply.result_int
        return chr(code) if code > 0 else ""

    # -- Channel -----------------------------------------------------------------------------

    async def play(self, prompts: Sequence[Prompt]) -> None:
        for prompt in prompts:
            await self._stream(prompt, "")

    async def gather(
        self,
        prompts: Sequence[Prompt],
        *,
        digits: DigitSpec | None,
        speech: SpeechSpec | None,
        barge_in: bool = True,
    ) -> Input:
        if speech is not None and self.live is not None and self.recognizer is not None:
            return await self.live.gather(self, prompts, digits=digits, speech=speech, barge_in=barge_in)
        escape = DTMF_KEYS if digits is not None and barge_in else ""
        first = ""
        for prompt in prompts:
            first = await self._stream(prompt, escape)
            if first:
                break
        if speech is not None and not first and self.recognizer is not None:
            return await self._listen(speech, digits)
        if digits is None:
            return Input.none()
        return await self._digits(digits, first)

    async def _wait_digit(self, seconds: float) -> str:
        ms = max(1, int(seconds * 1000))
        reply = await self._cmd(f"WAIT FOR DIGIT {ms}", within=seconds + 10.0)
        code = reply.result_int
        return chr(code) if code > 0 else ""

    async def _digits(self, spec: DigitSpec, first: str) -> Input:
        collected = ""
        key = first or await self._wait_digit(spec.timeout)
        while key:
            if spec.terminator and key == spec.terminator:
                break
            collected += key
            if len(collected) >= spec.max_digits:
                break
            key = await self._wait_digit(spec.inter_digit_timeout)
        return Input.dtmf(collected) if collected else Input.none()

    async def _listen(self, spec: SpeechSpec, digits: DigitSpec | None) -> Input:
        assert self.recognizer is not None
        self._records += 1
        base = self.settings.speech_dir / f"hotline-{self.call_id}-{self._records}"
        escape = DTMF_KEYS if digits is not None else ""
        silence = max(1, round(spec.timeout))
        ms = max(1000, int(spec.max_duration * 1000))
        reply = await self._cmd(
            f"RECORD FILE {base} wav {quote(escape)} {ms} 0 s={silence}", within=spec.max_duration + spec.timeout + 10
        )
        path = base.parent / f"{base.name}.wav"
        try:
            if reply.data == "dtmf" and reply.result_int > 0:
                if digits is None:
                    return Input.none()
                return await self._digits(digits, chr(reply.result_int))
            pcm = await asyncio.to_thread(read_pcm, path)
        finally:
            await asyncio.to_thread(path.unlink, True)
        session = self.recognizer.session(spec.language, spec.grammar)
        try:
            result = await listen(session, frames(pcm), no_input=spec.timeout, max_duration=spec.max_duration)
        finally:
            await session.close()
        return Input.speech(result) if result.text else Input.none()

    async def transfer(self, request: TransferRequest) -> None:
        """Mark the call for the queue; the session ends and the caller waits in hold."""
        await self._set(VAR_PRIORITY, str(request.priority))
        await self._set(VAR_TIER, request.tier)
        await self._set(VAR_LANGUAGE, request.language)
        await self._set(VAR_SKILLS, encode_skills(request.skills))
        if request.callback_number is None:
            await self._set(VAR_QUEUED_AT, f"{self.clock_now():.3f}")  # a restart keeps the wait
            await self._set(VAR_QUEUE, request.queue)  # last: the dialplan parks on this one
        elif self.on_callback is not None:
            # Queued before the IVR reports its outcome, so the case store keeps the ACD's
            # outcome; the dialplan hangs up (no HOTLINE_QUEUE) when the session ends.
            pending = self.on_callback(self, request)
            if inspect.isawaitable(pending):  # handed over to another node (a cluster's leader)
                await pending
        self.transfer_request = request

    async def hangup(self) -> None:
        with contextlib.suppress(CallerHangup):
            await self._cmd("HANGUP")

    async def set_data(self, key: str, value: str) -> None:
        self.data[key] = value
        await self._set("HOTLINE_DATA_" + _VAR_NAME.sub("_", key.upper()), value)

    async def _set(self, name: str, value: str) -> None:
        await self._cmd(f"SET VARIABLE {name} {quote(value)}")


def read_pcm(path: Path) -> bytes:
    """16-bit mono PCM of a recorded WAV (Asterisk's `wav` format is 8 kHz slin)."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise ChannelError(f"{path.name}: not 16-bit mono audio")
            return w.readframes(w.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise ChannelError(f"cannot read the caller's recording {path.name}: {exc}") from exc


async def frames(pcm: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(pcm), FRAME):
        yield pcm[i : i + FRAME]
