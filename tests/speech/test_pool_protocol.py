"""The recognizer processes' framing (speech/pool_protocol.py), on bytes."""

from __future__ import annotations

import pytest

from speech.pool_protocol import Decoder, FramingError, encode


def test_framing_round_trips_split_anywhere_and_refuses_garbage() -> None:
    data = encode(("feed", 7, b"\x01\x02" * 160)) + encode(("close", 7))
    decoder = Decoder()
    out = []
    for i in range(len(data)):
        out += decoder.feed(data[i : i + 1])
    assert out == [("feed", 7, b"\x01\x02" * 160), ("close", 7)]
    with pytest.raises(FramingError):
        Decoder().feed(b"\x7f\xff\xff\xff")
    with pytest.raises(FramingError):
        Decoder().feed(b"\x00\x00\x00\x03abc")
