"""The framing between Hotline and its recognizer processes (speech/process_pool.py), sans-io.

Every message is `length (4 bytes, big-endian) | pickle of a tuple`. Both ends are Hotline's
own processes (the parent starts the workers), so pickle is safe here; nothing else may
connect to these sockets (they are socketpairs, not listening sockets).

Parent -> worker: ("open", sid, language, grammar | None), ("feed", sid, pcm), ("finish", sid),
("close", sid), ("stop",). Worker -> parent: ("ready", languages, pid), ("fed", sid, started,
result | None), ("finished", sid, result), ("closed", sid), ("error", sid, kind, message),
("failed", message) (the worker could not start).
"""

from __future__ import annotations

import pickle
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_MESSAGE = 16 * 1024 * 1024


class FramingError(ValueError):
    """The peer sent bytes that are not a message of this protocol."""


def encode(message: tuple[Any, ...]) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if len(body) > MAX_MESSAGE:
        raise ValueError(f"message of {len(body)} bytes is over {MAX_MESSAGE}")
    return HEADER.pack(len(body)) + body


class Decoder:
    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[Any, ...]]:
        self._buffer += data
        out: list[tuple[Any, ...]] = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if length > MAX_MESSAGE:
                raise FramingError(f"message of {length} bytes announced")
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            try:
                message = pickle.loads(bytes(self._buffer[HEADER.size : end]))  # our own child process
            except Exception as exc:
                raise FramingError(f"undecodable message: {exc}") from exc
            del self._buffer[:end]
            if not isinstance(message, tuple) or not message:
                raise FramingError(f"not a message: {type(message).__name__}")
            out.append(message)
        return out
