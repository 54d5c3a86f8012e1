"""The AudioSocket parser and encoder on bytes."""

from __future__ import annotations

import uuid

import pytest

from asterisk.audiosocket import (
    AUDIO,
    DTMF,
    HANGUP,
    ID,
    AudioSocketError,
    AudioSocketParser,
    Message,
    audio,
    call_id,
    encode,
    hangup,
)

CALL = uuid.UUID("40325ec2-5efd-4bd3-805f-53576e581d13")


def test_a_call_stream_parses_in_any_chunking() -> None:
    stream = call_id(CALL) + audio(b"\x01\x00" * 160) + encode(DTMF, b"5") + audio(b"\x02\x00" * 160) + hangup()
    assert stream[:3] == b"\x01\x00\x10" and stream[19:22] == b"\x10\x01\x40"  # kind, big-endian length
    for size in (1, 2, 3, 7, 320, len(stream)):
        parser = AudioSocketParser()
        messages: list[Message] = []
        for i in range(0, len(stream), size):
            messages += parser.feed(stream[i : i + size])
        assert [m.name for m in messages] == ["id", "audio", "dtmf", "audio", "hangup"], size
        assert messages[0].call_uuid == CALL and messages[2].digit == "5"
        assert messages[1].payload == b"\x01\x00" * 160 and parser.closed and parser.pending == 0


def test_an_incomplete_message_waits() -> None:
    parser = AudioSocketParser()
    frame = audio(b"\x00\x01" * 10)
    assert parser.feed(frame[:-1]) == [] and parser.pending == len(frame) - 1
    assert parser.feed(frame[-1:]) == [Message(AUDIO, b"\x00\x01" * 10)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x42\x00\x00", "unknown message kind 0x42"),
        (b"\x01\x00\x04abcd", "id message with a 4-byte payload"),
        (b"\x03\x00\x02ab", "dtmf message with a 2-byte payload"),
        (b"\x10\x00\x03abc", "not 16-bit samples"),
        (b"\x00\x00\x01x", "hangup message with a 1-byte payload"),
        (hangup() + audio(b"\x00\x00"), "data after hangup"),
    ],
)
def test_garbage_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(AudioSocketError, match=message):
        AudioSocketParser().feed(data)


def test_errors_and_accessors() -> None:
    (error,) = AudioSocketParser().feed(b"\xff\x00\x01\x02")
    assert error.name == "error" and error.payload == b"\x02"
    with pytest.raises(AudioSocketError):
        _ = error.digit
    with pytest.raises(AudioSocketError):
        _ = Message(ID, b"short").call_uuid
    with pytest.raises(ValueError, match="even number"):
        audio(b"\x00")
    with pytest.raises(ValueError, match="over 65535"):
        encode(AUDIO, bytes(65536))
    assert encode(HANGUP) == b"\x00\x00\x00" and Message(HANGUP).name == "hangup" and ID == 1
