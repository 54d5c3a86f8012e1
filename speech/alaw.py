"""G.711 A-law -> signed 16-bit PCM (lookup table, bit-exact with the reference g711.c
`alaw2linear`). European trunks and many WAV recordings carry A-law."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def _build_decode_table() -> npt.NDArray[np.int16]:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    segment = (a & 0x70) >> 4
    t = np.where(segment == 0, t + 8, t + 0x108)
    t = np.where(segment > 1, t << np.maximum(segment - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


DECODE_TABLE = _build_decode_table()


def alaw_to_pcm16(data: bytes) -> bytes:
    """Decode A-law bytes into signed 16-bit little-endian PCM (twice as long)."""
    return DECODE_TABLE[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()
