"""Live speech on Asterisk: a speech `gather` of the FastAGI channel runs over AudioSocket.

    AGI:  EXEC AudioSocket <uuid>,<host>:<port>      (blocks while the stream is open)
    Asterisk ──connect, id <uuid>, caller's audio──> AudioSocketServer ──> live_gather
             <──prompt audio, silence, hangup──────

Hotline plays the prompt itself over the stream (from the prompts folder it shares with
Asterisk), so the caller can talk over it: voice or a key stops it at once, and Hotline's own
end-of-speech detection decides (about 0.3 s after the caller stops). Hotline then sends the
AudioSocket hangup message: `AudioSocket()` returns 0, the EXEC command answers
`200 result=0`, and the IVR goes on with its next AGI command.

Falls back, logged, to the RECORD FILE path (`AgiChannel._listen`) when AudioSocket() fails
(module not loaded, Hotline's port unreachable: EXEC answers `result=-1` or `-2` and the
channel is still up). Prompts Hotline cannot read
(no `prompts_dir`, a recording in a format it does not decode) are played by STREAM FILE
first, keys still interrupting them, and the stream then only listens. An AudioSocket() that
neither connects nor fails within `connect_timeout` ends the call's IVR with `ChannelError`
(the AGI session is then out of step with Asterisk).

It works on the call's `AgiChannel` (same package): its AGI session, its prompt-file lookup
(`_audio_name`), and its STREAM FILE / WAIT FOR DIGIT / RECORD FILE steps for the fallbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asterisk.agi_parser import AgiReply
from asterisk.audiosocket_server import AudioSocketServer, AudioStream
from asterisk.fastagi import AgiConnectionClosed, AgiDeadChannel, AgiError
from asterisk.live_gather import live_gather
from asterisk.settings import AsteriskSettings, AudioSocketSettings
from ivr.channel import CallerHangup, ChannelError, DigitSpec, Input, Prompt, SpeechSpec
from ivr.speech import SpeechError
from prompts.render import recorded_file
from speech.alaw import alaw_to_pcm16
from speech.mulaw import ulaw_to_pcm16
from speech.wavfile import parse_wav, to_pcm8k

if TYPE_CHECKING:
    from asterisk.agi_channel import AgiChannel

log = logging.getLogger("hotline.asterisk.live")


def live_speech(settings: AsteriskSettings) -> LiveSpeech | None:
    """The service's live-speech path, when `asterisk.audiosocket` is configured."""
    if settings.audiosocket is None:
        return None
    server = AudioSocketServer(settings.audiosocket.host, settings.audiosocket.port,
                               id_timeout=settings.audiosocket.connect_timeout)
    return LiveSpeech(server, settings.audiosocket)


class LiveSpeech:
    """Shared by every call of the service: the AudioSocket server and how Asterisk reaches it."""

    def __init__(self, server: AudioSocketServer, settings: AudioSocketSettings,
                 *, now: Callable[[], float] = time.monotonic) -> None:
        self.server = server
        self.settings = settings
        self.now = now
        self.live = 0  # gathers answered over AudioSocket
        self.fallbacks = 0  # gathers that fell back to RECORD FILE
        self.last_barge_in = False  # the last gather's prompt was interrupted (tests, logs)

    @property
    def address(self) -> str:
        host = self.settings.advertise or self.settings.host
        return f"{host}:{self.server.port}"

    async def gather(self, channel: AgiChannel, prompts: Sequence[Prompt], *, digits: DigitSpec | None,
                     speech: SpeechSpec, barge_in: bool) -> Input:
        assert channel.recognizer is not None
        pcm, unreadable = await self._prompt_audio(channel, prompts)
        if unreadable:
            escape = "0123456789*#" if digits is not None and barge_in else ""
            for prompt in prompts:
                first = await channel._stream(prompt, escape)
                if first:
                    return await channel._digits(digits, first) if digits is not None else Input.none()
            pcm = b""
        call_uuid = uuid.uuid4()
        connected = self.server.expect(call_uuid)
        within = min(channel.settings.fastagi.command_timeout,
                     len(pcm) / 16000 + speech.timeout + speech.max_duration + 30.0)
        command = asyncio.ensure_future(
            channel.session.command(f"EXEC AudioSocket {call_uuid},{self.address}", within=within)
        )
        try:
            stream = await self._connect(channel, connected, command)
            if stream is None:
                self.fallbacks += 1
                return await channel._listen(speech, digits)
            try:
                session = channel.recognizer.session(speech.language, speech.grammar)
                try:
                    result = await live_gather(stream, pcm, session, speech=speech, digits=digits,
                                               barge_in=barge_in, gap=self.settings.gap, now=self.now)
                finally:
                    await session.close()
            except (SpeechError, ChannelError):
                # Recognition failed (the IVR asks by keys next) or the caller hung up: end
                # the stream and read the EXEC's reply, so the next command gets its own.
                await stream.close()
                with contextlib.suppress(ChannelError, TimeoutError):
                    await asyncio.wait_for(self._finished(channel, command), 5.0)
                raise
            finally:
                await stream.close()
                self.server.forget(stream)
            await self._finished(channel, command)
            self.live += 1
            self.last_barge_in = result.barged_in
            log.info("call %s: live speech answered %s%s", channel.call_id, result.input.kind.value,
                     " (barge-in)" if result.barged_in else "")
            return result.input
        finally:
            connected.cancel()
            if not command.done():
                command.cancel()
                with contextlib.suppress(asyncio.CancelledError, AgiError):
                    await command

    async def _connect(self, channel: AgiChannel, connected: asyncio.Future[AudioStream],
                       command: asyncio.Future[AgiReply]) -> AudioStream | None:
        pending: set[asyncio.Future[Any]] = {connected, command}
        done, _ = await asyncio.wait(pending, timeout=self.settings.connect_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if connected in done:
            return connected.result()
        if command in done:
            await self._finished(channel, command)  # raises CallerHangup if the call is gone
            log.warning("call %s: AudioSocket() failed on the PBX (%s); recording instead",
                        channel.call_id, _reply_text(command))
            return None
        log.warning("call %s: AudioSocket did not connect within %s s; recording instead",
                    channel.call_id, self.settings.connect_timeout)
        command.cancel()
        raise ChannelError("AudioSocket did not connect; the AGI command is still running")

    async def _finished(self, channel: AgiChannel, command: asyncio.Future[AgiReply]) -> None:
        """The EXEC's reply: fine when AudioSocket() returned 0 (or failed on a live channel)."""
        try:
            reply = await command
        except (AgiDeadChannel, AgiConnectionClosed) as exc:
            raise CallerHangup("the caller hung up", detail=str(exc)) from exc
        except AgiError as exc:
            raise ChannelError(f"EXEC AudioSocket: {exc}") from exc
        if channel.session.hung_up or (reply.result == "-1" and not await channel._alive()):
            raise CallerHangup("the caller hung up", detail=reply.text)

    async def _prompt_audio(self, channel: AgiChannel, prompts: Sequence[Prompt]) -> tuple[bytes, bool]:
        """The prompts' PCM as one piece, or (b"", True) if one of them cannot be read here."""
        folder = channel.settings.prompts_dir
        if folder is None:
            return b"", bool(prompts)
        parts: list[bytes] = []
        for prompt in prompts:
            name = await channel._audio_name(prompt)
            if name is None:
                channel.missing_audio.append(prompt.key or prompt.text[:40])
                continue
            pcm = await asyncio.to_thread(read_prompt, folder, name)
            if pcm is None:
                return b"", True
            parts.append(pcm)
        return b"".join(parts), False


def read_prompt(folder: Path, name: str) -> bytes | None:
    """16-bit 8 kHz PCM of a prompt file in `folder` (wav, sln, ulaw, alaw); None otherwise."""
    path = recorded_file(folder, name)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    ext = path.suffix
    if ext == ".sln":
        return data[: len(data) // 2 * 2]
    if ext == ".ulaw":
        return ulaw_to_pcm16(data)
    if ext == ".alaw":
        return alaw_to_pcm16(data)
    if ext == ".wav":
        try:
            info, samples = parse_wav(data)
            return to_pcm8k(info, samples)
        except ValueError:
            return None
    return None


def _reply_text(command: asyncio.Future[AgiReply]) -> str:
    with contextlib.suppress(Exception):
        return command.result().text
    return ""
