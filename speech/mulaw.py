"""G.711 mu-law <-> signed 16-bit PCM, with lookup tables (no `audioop`: Python 3.13 removed it).

Twilio Media Streams and Asterisk's `ulaw` carry 8 kHz mu-law, one byte per sample; the
recognizer wants 16-bit little-endian PCM at 8 kHz. A 20 ms frame is 160 mu-law bytes,
320 PCM bytes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160
ULAW_FRAME_BYTES = FRAME_SAMPLES  # 160
PCM_FRAME_BYTES = FRAME_SAMPLES * 2  # 320

_BIAS = 0x84
_CLIP = 32635
_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _build_decode_table() -> npt.NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_encode_table() -> npt.NDArray[np.uint8]:
    # Sun's reference g711.c: 14-bit magnitude, segment search, bits inverted.
    x = np.arange(65536, dtype=np.int32).astype(np.uint16).view(np.int16).astype(np.int32) >> 2
    mask = np.where(x < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(x), _CLIP >> 2) + (_BIAS >> 2)
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude)
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


DECODE_TABLE = _build_decode_table()  # mu-law byte -> int16 sample
ENCODE_TABLE = _build_encode_table()  # uint16 view of an int16 sample -> mu-law byte


def ulaw_to_pcm16(data: bytes) -> bytes:
    """Decode mu-law bytes into signed 16-bit little-endian PCM (twice as long)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return DECODE_TABLE[codes].astype("<i2").tobytes()


def pcm16_to_ulaw(data: bytes) -> bytes:
    """Encode signed 16-bit little-endian PCM into mu-law (half as long)."""
    if len(data) % 2:
        raise ValueError(f"16-bit PCM needs an even number of bytes, got {len(data)}")
    samples = np.frombuffer(data, dtype="<u2")
    return ENCODE_TABLE[samples].tobytes()


def frames(data: bytes, frame_bytes: int) -> list[bytes]:
    """Split `data` into frames of `frame_bytes` (the last one may be shorter)."""
    if frame_bytes <= 0:
        raise ValueError("frame_bytes must be positive")
    return [data[i : i + frame_bytes] for i in range(0, len(data), frame_bytes)]
