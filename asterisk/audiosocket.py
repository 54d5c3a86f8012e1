"""AudioSocket (Asterisk's app_audiosocket / chan_audiosocket) as a sans-io parser and encoder.

Every message is `kind (1 byte) | payload length (2 bytes, big-endian) | payload`:

| kind | payload |
| --- | --- |
| 0x00 hangup | none: the call (or the stream) ends |
| 0x01 id | 16 bytes: the UUID given to `AudioSocket(uuid,host:port)` in the dialplan |
| 0x03 DTMF | 1 ASCII byte, the key |
| 0x10 audio | signed 16-bit little-endian mono PCM at 8 kHz (320 bytes = 20 ms) |
| 0xff error | an error code from Asterisk (1 byte) |

Feed whatever the socket delivered; complete messages come out, the rest waits for more.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

HANGUP, ID, DTMF, AUDIO, ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
KINDS = {HANGUP: "hangup", ID: "id", DTMF: "dtmf", AUDIO: "audio", ERROR: "error"}
MAX_PAYLOAD = 65535


class AudioSocketError(ValueError):
    """The peer sent something that is not AudioSocket: the connection should be closed."""


@dataclass(frozen=True, slots=True)
class Message:
    kind: int
    payload: bytes = b""

    @property
    def name(self) -> str:
        return KINDS.get(self.kind, f"0x{self.kind:02x}")

    @property
    def call_uuid(self) -> uuid.UUID:
        if self.kind != ID or len(self.payload) != 16:
            raise AudioSocketError(f"not an id message: {self.name}, {len(self.payload)} bytes")
        return uuid.UUID(bytes=self.payload)

    @property
    def digit(self) -> str:
        if self.kind != DTMF or len(self.payload) != 1:
            raise AudioSocketError(f"not a DTMF message: {self.name}")
        return self.payload.decode("ascii")


class AudioSocketParser:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self.closed = False  # a hangup was read: later bytes are refused

    def feed(self, data: bytes) -> list[Message]:
        if self.closed and data:
            raise AudioSocketError("data after hangup")
        self._buffer += data
        out: list[Message] = []
        while len(self._buffer) >= 3:
            kind = self._buffer[0]
            if kind not in KINDS:
                raise AudioSocketError(f"unknown message kind 0x{kind:02x}")
            (length,) = struct.unpack_from(">H", self._buffer, 1)
            if (kind == ID and length != 16) or (kind == DTMF and length != 1) or (kind == HANGUP and length):
                raise AudioSocketError(f"{KINDS[kind]} message with a {length}-byte payload")
            if kind == AUDIO and length % 2:
                raise AudioSocketError(f"audio of {length} bytes is not 16-bit samples")
            if len(self._buffer) < 3 + length:
                break
            out.append(Message(kind, bytes(self._buffer[3 : 3 + length])))
            del self._buffer[: 3 + length]
            if kind == HANGUP:
                self.closed = True
                if self._buffer:
                    raise AudioSocketError("data after hangup")
                break
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message waiting for the rest."""
        return len(self._buffer)


def encode(kind: int, payload: bytes = b"") -> bytes:
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind}")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD}")
    return bytes([kind]) + struct.pack(">H", len(payload)) + payload


def audio(pcm: bytes) -> bytes:
    """An audio message (to play to the caller: 16-bit 8 kHz PCM)."""
    if len(pcm) % 2:
        raise ValueError("16-bit PCM needs an even number of bytes")
    return encode(AUDIO, pcm)


def hangup() -> bytes:
    return encode(HANGUP)


def call_id(value: uuid.UUID) -> bytes:
    return encode(ID, value.bytes)
