"""Twilio Media Streams: the WebSocket messages, and listening for one answer.

Messages are JSON text frames (`connected`, `start`, `media`, `dtmf`, `mark`, `stop`);
`parse_message` turns one into a dataclass or raises `StreamProtocolError`. `Listener`
is sans-io too: it is fed decoded audio and key presses and says when the answer is
complete. Its timeouts count audio time (20 ms per 160-byte frame), not the wall clock,
so a slow recognizer cannot make a caller's silence look longer than it was.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from ivr.channel import DigitSpec, Input, SpeechSpec
from ivr.speech import Recognition, SpeechSession
from speech.mulaw import SAMPLE_RATE, ulaw_to_pcm16


class StreamProtocolError(ValueError):
    """A Media Stream message we cannot understand."""


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    call_sid: str
    parameters: dict[str, str] = field(default_factory=dict)
    encoding: str = "audio/x-mulaw"
    sample_rate: int = SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Media:
    payload: bytes  # mu-law bytes
    timestamp: int  # milliseconds since the stream started
    track: str = "inbound"


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class Mark:
    name: str


@dataclass(frozen=True, slots=True)
class Stop:
    call_sid: str


Message = Connected | Start | Media | Dtmf | Mark | Stop


def parse_message(text: str | bytes) -> Message:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StreamProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise StreamProtocolError("message is not a JSON object")
    event = data.get("event")
    try:
        if event == "media":
            media = _obj(data, "media")
            payload = base64.b64decode(str(media["payload"]), validate=True)
            return Media(payload, int(media.get("timestamp", 0)), str(media.get("track", "inbound")))
        if event == "start":
            start = _obj(data, "start")
            fmt = start.get("mediaFormat") or {}
            params = start.get("customParameters") or {}
            if not isinstance(params, dict) or not isinstance(fmt, dict):
                raise StreamProtocolError("start: customParameters/mediaFormat must be objects")
            return Start(
                str(start.get("streamSid") or data.get("streamSid", "")),
                str(start["callSid"]),
                {str(k): str(v) for k, v in params.items()},
                str(fmt.get("encoding", "audio/x-mulaw")),
                int(fmt.get("sampleRate", SAMPLE_RATE)),
            )
        if event == "dtmf":
            digit = str(_obj(data, "dtmf")["digit"])
            if len(digit) != 1 or digit not in "0123456789*#":
                raise StreamProtocolError(f"dtmf: bad digit {digit!r}")
            return Dtmf(digit)
        if event == "connected":
            return Connected(str(data.get("protocol", "")))
        if event == "mark":
            return Mark(str(_obj(data, "mark").get("name", "")))
        if event == "stop":
            return Stop(str((data.get("stop") or {}).get("callSid", "")))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        if isinstance(exc, StreamProtocolError):
            raise
        raise StreamProtocolError(f"{event}: {exc!r}") from exc
    raise StreamProtocolError(f"unknown event {event!r}")


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise StreamProtocolError(f"{data.get('event')}: '{key}' must be an object")
    return value


class Listener:
    """Listens for one answer: speech through `session`, and DTMF when `digits` is set.

    `media()` and `dtmf()` return the `Input` once it is decided, else None; `end()` decides
    with what was heard when the stream stops early.
    """

    def __init__(
        self,
        session: SpeechSession | None,
        speech: SpeechSpec | None,
        digits: DigitSpec | None,
        *,
        silence_ends: bool = True,
    ) -> None:
        """`silence_ends=False` when the stream starts with the prompts: silence is then timed
        by the call's own TwiML (Gather / Pause), not by the listener."""
        self.session = session
        self.silence_ends = silence_ends
        self.speech = speech
        self.digits = digits
        self.audio_seconds = 0.0
        self.frames = 0
        self._keys = ""
        self._last_key_at = 0.0
        self._heard = False
        self._speech_at = 0.0

    async def media(self, ulaw: bytes) -> Input | None:
        self.frames += 1
        self.audio_seconds += len(ulaw) / SAMPLE_RATE
        now = self.audio_seconds
        if self._keys:
            spec = self.digits or DigitSpec()
            if now - self._last_key_at >= spec.inter_digit_timeout:
                return Input.dtmf(self._keys)
            return None
        if self.session is None or self.speech is None:
            if self.silence_ends and self.digits is not None and now >= self.digits.timeout:
                return Input.none()
            return None
        result = await self.session.feed(ulaw_to_pcm16(ulaw))
        if result is not None:
            return _speech(result)
        if not self._heard and self.session.speech_started():
            self._heard = True
            self._speech_at = now
        if not self._heard:
            return Input.none() if self.silence_ends and now >= self.speech.timeout else None
        if now - self._speech_at >= self.speech.max_duration:
            return _speech(await self.session.finish())
        return None

    @property
    def heard(self) -> bool:
        """Voice was heard (time to stop the prompt)."""
        return self._heard

    def dtmf(self, digit: str) -> Input | None:
        spec = self.digits
        if spec is None:
            return None
        if spec.terminator and digit == spec.terminator:
            return Input.dtmf(self._keys) if self._keys else Input.none()
        self._keys += digit
        self._last_key_at = self.audio_seconds
        if len(self._keys) >= spec.max_digits:
            return Input.dtmf(self._keys)
        return None

    async def end(self) -> Input:
        if self._keys:
            return Input.dtmf(self._keys)
        if self.session is not None and self._heard:
            return _speech(await self.session.finish())
        return Input.none()


def _speech(result: Recognition) -> Input:
    return Input.speech(result) if result.text.strip() else Input.none()
