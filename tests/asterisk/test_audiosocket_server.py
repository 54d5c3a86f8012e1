"""The AudioSocket server (asterisk/audiosocket_server.py) on a real socket: a connection is
handed to whoever expects its UUID; strangers and silent peers are closed; closing a stream
sends the hangup message AudioSocket() returns on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from asterisk import audiosocket
from asterisk.audiosocket import AudioSocketParser
from asterisk.audiosocket_server import AudioSocketServer


@pytest.fixture
async def server() -> AsyncIterator[AudioSocketServer]:
    s = AudioSocketServer("127.0.0.1", 0, id_timeout=0.5)
    await s.start()
    yield s
    await s.close()


async def read_all(reader: asyncio.StreamReader) -> list[audiosocket.Message]:
    parser = AudioSocketParser()
    out: list[audiosocket.Message] = []
    while data := await asyncio.wait_for(reader.read(4096), 5):
        out += parser.feed(data)
    return out


async def test_expected_stream_gets_audio_and_keys_and_ends_with_hangup(server: AudioSocketServer) -> None:
    call = uuid.uuid4()
    expected = server.expect(call)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    pcm = bytes(range(256)) + bytes(64)
    # id, audio and a key in one write, split mid-message: the framing copes
    data = audiosocket.call_id(call) + audiosocket.audio(pcm) + audiosocket.encode(audiosocket.DTMF, b"5")
    writer.write(data[:20])
    await writer.drain()
    writer.write(data[20:])
    stream = await asyncio.wait_for(expected, 5)
    assert stream.call_uuid == call
    first = await stream.read()
    second = await stream.read()
    assert first is not None and first.payload == pcm
    assert second is not None and second.digit == "5"
    stream.send_audio(bytes(320))
    await stream.close()
    assert [m.kind for m in await read_all(reader)] == [audiosocket.AUDIO, audiosocket.HANGUP]
    writer.close()
    assert server.accepted == 1


async def test_the_end_of_the_call_reads_as_none(server: AudioSocketServer) -> None:
    call = uuid.uuid4()
    expected = server.expect(call)
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(audiosocket.call_id(call))
    stream = await asyncio.wait_for(expected, 5)
    writer.close()  # Asterisk closes the socket when the caller hangs up
    assert await asyncio.wait_for(stream.read(), 5) is None
    assert stream.ended


async def test_unknown_uuid_and_silent_peer_are_refused(server: AudioSocketServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(audiosocket.call_id(uuid.uuid4()))  # nobody expects this call
    assert [m.kind for m in await read_all(reader)] == [audiosocket.HANGUP]
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)  # sends nothing
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(audiosocket.audio(bytes(320)))  # audio before any id
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert server.rejected == 3 and server.accepted == 0
