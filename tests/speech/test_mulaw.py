from __future__ import annotations

import numpy as np
import pytest

from speech.mulaw import DECODE_TABLE, frames, pcm16_to_ulaw, ulaw_to_pcm16


def pcm(*samples: int) -> bytes:
    return np.array(samples, dtype="<i2").tobytes()


def test_reference_points_of_g711() -> None:
    # Values of ITU-T G.711 / Sun's g711.c: zero is 0xFF, full scale is 0x80 / 0x00.
    assert pcm16_to_ulaw(pcm(0, 32767, -32768, -1, 8, -8)) == bytes([0xFF, 0x80, 0x00, 0x7E, 0xFE, 0x7E])
    assert np.frombuffer(ulaw_to_pcm16(bytes([0xFF, 0x80, 0x00, 0x7F, 0xF0])), "<i2").tolist() == [
        0, 32124, -32124, 0, 120,
    ]


def test_decoding_then_encoding_gives_every_code_back() -> None:
    codes = bytes(range(256))
    back = pcm16_to_ulaw(ulaw_to_pcm16(codes))
    # 0x7F and 0xFF both decode to 0; zero encodes to 0xFF.
    assert [(a, b) for a, b in zip(codes, back, strict=True) if a != b] == [(0x7F, 0xFF)]


def test_quantization_error_is_within_half_a_step() -> None:
    x = np.arange(-32768, 32768, 7, dtype=np.int32)
    y = np.frombuffer(ulaw_to_pcm16(pcm16_to_ulaw(x.astype("<i2").tobytes())), "<i2").astype(np.int32)
    err = np.abs(y - np.clip(x, -32635, 32635))
    # Step sizes double per segment: 8 near zero up to 1024 at full scale.
    assert np.all(err <= np.maximum(8, np.abs(x) // 16 + 8))


def test_decode_table_is_monotonic_within_each_sign() -> None:
    positive = DECODE_TABLE[0x80:0x100][::-1].astype(int)  # 0xFF (0) .. 0x80 (max)
    negative = DECODE_TABLE[0x00:0x80].astype(int)  # 0x00 (min) .. 0x7F (0)
    assert np.all(np.diff(positive) > 0) and np.all(np.diff(negative) > 0)


def test_lengths_and_errors() -> None:
    assert len(ulaw_to_pcm16(b"\xff" * 160)) == 320
    assert len(pcm16_to_ulaw(b"\x00" * 320)) == 160
    with pytest.raises(ValueError, match="even number"):
        pcm16_to_ulaw(b"\x00" * 3)
    assert frames(b"abcdefg", 3) == [b"abc", b"def", b"g"]
