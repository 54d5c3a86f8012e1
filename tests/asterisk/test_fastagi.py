"""The FastAGI server against Asterisk's own bytes: the transcripts replayed by a client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from asterisk.agi_parser import AgiReply
from asterisk.fastagi import (
    AgiConnectionClosed,
    AgiDeadChannel,
    AgiSession,
    AgiUnknownCommand,
    AgiUsageError,
    FastAgiServer,
)
from tests.asterisk.transcripts import lines

Handler = Callable[[AgiSession], Awaitable[None]]


async def replay(port: int, name: str, chunk: int) -> list[str]:
    """Play Asterisk's side of a FastAGI transcript: env block, then each reply after each
    command (the bytes of all AST lines that followed that APP line). Returns the commands."""
    script = lines(name)
    env = b""
    i = 0
    while script[i].side == "AST":
        env += (script[i].text + "\n").encode()
        i += 1
    replies: list[bytes] = []
    for ln in script[i:]:
        if ln.side == "APP":
            replies.append(b"")
        else:
            replies[-1] += (ln.text + "\n").encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for j in range(0, len(env), chunk):
        writer.write(env[j : j + chunk])
        await writer.drain()
    seen = []
    for reply in replies:
        line = await asyncio.wait_for(reader.readline(), 5)
        if not line:
            break
        seen.append(line.decode().rstrip("\n"))
        for j in range(0, len(reply), chunk):
            writer.write(reply[j : j + chunk])
            await writer.drain()
    writer.close()
    return seen


@pytest.fixture
async def server() -> AsyncIterator[tuple[FastAgiServer, list[Handler]]]:
    handlers: list[Handler] = []

    async def handle(session: AgiSession) -> None:
        await handlers[0](session)

    srv = FastAgiServer(handle, "127.0.0.1", 0, env_timeout=2)
    await srv.start()
    yield srv, handlers
    await srv.close()


@pytest.mark.parametrize("chunk", [1, 100, 4096])
async def test_sip_call_transcript_including_510_and_multiline_520(
    server: tuple[FastAgiServer, list[Handler]], chunk: int
) -> None:
    srv, handlers = server
    app = [ln.text for ln in lines("c-sip-call-fastagi-agi.txt") if ln.side == "APP"]
    results: list[object] = []
    done = asyncio.Event()

    async def handler(session: AgiSession) -> None:
        results.append(session.env.get("channel"))
        for command in app:
            try:
                results.append(await session.command(command))
            except (AgiUnknownCommand, AgiUsageError) as exc:
                results.append(exc)
        done.set()

    handlers.append(handler)
    sent = await replay(srv.port, "c-sip-call-fastagi-agi.txt", chunk)
    await asyncio.wait_for(done.wait(), 5)
    assert sent == app
    assert results[0] == "PJSIP/2001-00000000"
    replies = results[1:]
    assert isinstance(replies[4], AgiReply) and replies[4].result == "49"  # WAIT FOR DIGIT -> '1'
    assert isinstance(replies[5], AgiReply) and replies[5].result == "42"
    assert isinstance(replies[-2], AgiUnknownCommand)
    usage = replies[-1]
    assert isinstance(usage, AgiUsageError)
    assert usage.reply.text.endswith("520 End of proper usage.") and "Waits up to" in usage.reply.text


@pytest.mark.parametrize("chunk", [1, 4096])
async def test_hangup_line_then_511_is_not_taken_for_the_next_reply(
    server: tuple[FastAgiServer, list[Handler]], chunk: int
) -> None:
    srv, handlers = server
    app = [ln.text for ln in lines("c2-fastagi-hangup-during-command-agi.txt") if ln.side == "APP"]
    outcome: dict[str, object] = {}
    done = asyncio.Event()

    async def handler(session: AgiSession) -> None:
        for command in app[:-1]:
            outcome[command] = await session.command(command)
        try:
            await session.command(app[-1])
        except AgiDeadChannel as exc:
            outcome["dead"] = exc.reply.code
        outcome["hung_up"] = session.hung_up
        try:
            await session.command("ANSWER", within=2)
        except AgiConnectionClosed:
            outcome["closed"] = True
        done.set()

    handlers.append(handler)
    await replay(srv.port, "c2-fastagi-hangup-during-command-agi.txt", chunk)
    await asyncio.wait_for(done.wait(), 5)
    wait = outcome["WAIT FOR DIGIT 10000"]
    assert isinstance(wait, AgiReply) and wait.result == "-1"
    assert outcome["dead"] == 511 and outcome["hung_up"] is True and outcome["closed"] is True


async def test_a_client_that_never_finishes_its_environment_is_dropped(
    server: tuple[FastAgiServer, list[Handler]]
) -> None:
    srv, handlers = server
    srv.env_timeout = 0.05
    handlers.append(lambda s: asyncio.sleep(0))
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(b"agi_network: yes\nagi_channel: PJSIP/x")
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server closed it
    writer.close()
    assert srv.rejected == 1 and srv.sessions == 0
