"""The fake Asterisk's AudioSocket(): what `EXEC AudioSocket <uuid>,<host>:<port>` does.

Like app_audiosocket.c: connect to the server, send the id message (the UUID's 16 bytes),
then forward the caller's audio (16-bit 8 kHz, 320-byte frames) and keys (DTMF messages), and
write what the server sends to the caller. A hangup message or the socket closing ends it with
`200 result=0`; a connection refused is `200 result=-1` on a live channel.

The two directions run in lock-step, as on a real channel where both carry 20 ms every 20 ms:
each frame Hotline sends (prompt or silence, paced by Hotline) lets one caller frame go. So
"the caller starts talking 0.4 s into the prompt" holds exactly, however loaded the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
import uuid
from dataclasses import dataclass, field

from asterisk.audiosocket import AUDIO, DTMF, HANGUP, AudioSocketParser, encode

FRAME = 320


@dataclass
class LiveCaller:
    """The caller's side of one AudioSocket stream."""

    pcm: bytes = b""  # what the caller says (from the first frame of the stream on)
    keys: dict[int, str] = field(default_factory=dict)  # frame index -> key pressed then
    hang_up_at: int | None = None  # frame index at which the caller hangs up
    silence_after: bool = True  # keep sending silence once `pcm` is said (a phone does)


@dataclass
class LiveStreamLog:
    """What one stream carried."""

    call_uuid: str
    heard: bytearray = field(default_factory=bytearray)  # audio Hotline sent to the caller
    frames_sent: int = 0  # caller frames sent to Hotline
    hung_up_by: str = ""  # "hotline" (hangup message), "eof", "caller"
    sent_at: list[float] = field(default_factory=list)  # perf_counter() of each caller frame sent
    ended_at: float = 0.0  # perf_counter() when the stream ended

    def loud_frames(self) -> int:
        """Frames of what Hotline sent that are not silence (the prompt)."""
        return loud_frames(bytes(self.heard))


def loud_frames(pcm: bytes, threshold: int = 300) -> int:
    count = 0
    for i in range(0, len(pcm) - FRAME + 1, FRAME):
        samples = struct.unpack_from(f"<{FRAME // 2}h", pcm, i)
        if max(abs(s) for s in samples) > threshold:
            count += 1
    return count


async def run_audiosocket(argument: str, caller: LiveCaller, log: list[LiveStreamLog]) -> tuple[str, bool]:
    """The AGI reply for `EXEC AudioSocket <argument>`, and whether the caller hung up."""
    call_id, _, service = argument.partition(",")
    try:
        value = uuid.UUID(call_id)
    except ValueError:
        return "200 result=-1\n", False  # "Failed to parse UUID"
    host, _, port = service.rpartition(":")
    try:
        reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    except (OSError, ValueError):
        return "200 result=-1\n", False  # "Connection refused": the channel is still up
    entry = LiveStreamLog(str(value))
    log.append(entry)
    parser = AudioSocketParser()
    writer.write(encode(0x01, value.bytes))
    try:
        while True:
            data = await asyncio.wait_for(reader.read(65536), 10.0)
            if not data:
                entry.hung_up_by = entry.hung_up_by or "eof"
                entry.ended_at = time.perf_counter()
                return "200 result=0\n", False
            for message in parser.feed(data):
                if message.kind == HANGUP:
                    entry.hung_up_by = "hotline"
                    entry.ended_at = time.perf_counter()
                    return "200 result=0\n", False
                if message.kind != AUDIO:
                    continue
                entry.heard += message.payload
                index = entry.frames_sent
                if caller.hang_up_at is not None and index >= caller.hang_up_at:
                    entry.hung_up_by = "caller"
                    return "200 result=-1\n", True
                if index in caller.keys:
                    writer.write(encode(DTMF, caller.keys[index].encode()))
                frame = caller.pcm[index * FRAME : (index + 1) * FRAME]
                if frame or caller.silence_after:
                    writer.write(encode(AUDIO, frame.ljust(FRAME, b"\0")))
                entry.frames_sent += 1
                entry.sent_at.append(time.perf_counter())
            await writer.drain()
    except (TimeoutError, ConnectionError):
        entry.hung_up_by = entry.hung_up_by or "eof"
        return "200 result=-1\n", True
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
