"""Hardening of the Asterisk adapter (issue 16), against fakes: AMI back-off reset, no secret
to a peer that is not Asterisk, an offer that cannot reach the PBX, FastAGI session cap,
per-command timeouts and the AGI URL key, a missing prompt file."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

import pytest

from acd.agent import AgentConfig
from acd.clock import AsyncioClock
from acd.engine import Acd
from acd.queue import QueueConfig
from asterisk.agi_channel import AgiChannel
from asterisk.ami_client import ActionResult, AmiClient
from asterisk.ami_parser import AmiMessage, Kind
from asterisk.control import LINK_DOWN, CallControl
from asterisk.errors import AmiNotConnected
from asterisk.fastagi import AgiSession, FastAgiServer
from asterisk.service import AsteriskService, running
from asterisk.settings import AmiSettings, AsteriskSettings, FastAgiSettings
from ivr.channel import CallerHangup, ChannelError, Prompt
from ivr.registry import MenuRegistry
from tests.asterisk.fake_asterisk import FakeAsterisk


def ami_settings(port: int, secret: str = "s3cret", backoff_max: float = 5.0) -> AmiSettings:
    return AmiSettings(port=port, username="hotline", secret=secret, connect_timeout=0.5, action_timeout=2,
                       backoff_initial=0.01, backoff_max=backoff_max)


async def test_backoff_resets_after_every_successful_login(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeAsterisk(secret="s3cret")
    await fake.start()
    client = AmiClient(ami_settings(fake.port), lambda m: None)
    caplog.set_level(logging.DEBUG, logger="hotline.asterisk.ami")  # the reconnect delay is a debug line
    client.start()
    try:
        for n in range(1, 6):
            await fake.wait_for(lambda n=n: fake.logins >= n)  # type: ignore[misc]
            await client.wait_ready(5)
            fake.drop()
        await fake.wait_for(lambda: fake.logins >= 6)
    finally:
        await client.stop()
        await fake.close()
    waits = [float(w) for w in re.findall(r"AMI reconnect in ([0-9.]+) s", caplog.text)]
    assert len(waits) >= 5 and max(waits) <= 0.01  # before: 0.01, 0.02, 0.04, 0.08, ...


async def _peer(greeting: bytes, received: list[bytes]) -> tuple[asyncio.Server, int]:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        await writer.drain()
        try:
            while data := await asyncio.wait_for(reader.read(4096), 2):
                received.append(data)
        except (TimeoutError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("greeting", [b"SSH-2.0-OpenSSH_9.2\r\n", b"HTTP/1.1 400 Bad Request\r\n\r\n", b""])
async def test_no_secret_to_a_peer_whose_banner_is_not_asterisks(greeting: bytes) -> None:
    received: list[bytes] = []
    server, port = await _peer(greeting, received)
    client = AmiClient(ami_settings(port, backoff_max=0.05), lambda m: None)
    client.start()
    try:
        await asyncio.sleep(1.2)  # a few connection attempts (connect_timeout 0.5 s)
    finally:
        await client.stop()
        server.close()
    assert b"s3cret" not in b"".join(received) and b"Login" not in b"".join(received)
    assert client.last_error is not None and client.connections == 0


class LinkDown:
    """An AMI that is down for Redirects (the connection just dropped), up for the resync."""

    def __init__(self) -> None:
        self.down = True
        self.sent: list[str] = []

    async def action(self, name: str, fields: dict[str, str | list[str]] | None = None, *,
                     within: float | None = None) -> ActionResult:
        self.sent.append(name)
        if self.down:
            raise AmiNotConnected(f"{name}: no AMI connection")
        items = [AmiMessage(Kind.EVENT, "CoreShowChannel", {
            "Uniqueid": "c1", "Channel": "PJSIP/caller-1", "Context": "hotline-incoming", "Application": "MusicOnHold",
        })] if name == "CoreShowChannels" else []
        return ActionResult(AmiMessage(Kind.RESPONSE, "Success", {"Response": "Success"}), items)


async def test_an_offer_that_cannot_reach_the_pbx_goes_back_at_once_and_the_agent_is_not_left_ringing() -> None:
    acd = Acd(AsyncioClock(), [QueueConfig("general", ring_timeout=30)], pause_on_ring_no_answer=False)
    acd.add_agent(AgentConfig("1001", skills={"general": 1}))
    acd.login("1001")
    ami = LinkDown()
    control = CallControl(acd, AsteriskSettings(), ami)
    control.enqueue("c1", "PJSIP/caller-1", "general", caller="0101")
    await control.drain()
    assert ami.sent == ["Redirect"]  # tried once, no loop of offers
    agent = acd.agents["1001"]
    assert agent.state.value == "paused" and agent.pause_reason == LINK_DOWN and not agent.calls
    assert acd.calls["c1"].state.value == "queued"
    ami.down = False
    await control.resync(ami)  # the link is back: the agent takes calls again, the call is offered
    await control.drain()
    assert acd.calls["c1"].state.value == "ringing" and acd.calls["c1"].agent_id == "1001"
    control.close()


async def _agi_peer(port: int, script: str, answer: Callable[[str], bytes | None], commands: list[str]) -> bool:
    """Asterisk's side of a FastAGI call; True when Hotline closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"agi_network: yes\nagi_network_script: {script}\nagi_uniqueid: 1.1\nagi_channel: PJSIP/x-1\n"
                 "agi_callerid: 0101\nagi_extension: 1588\n\n".encode())
    try:
        while line := await asyncio.wait_for(reader.readline(), 5):
            commands.append(line.decode().strip())
            reply = answer(commands[-1])
            if reply is not None:
                writer.write(reply)
        return True
    except ConnectionError:
        return True  # reset by Hotline
    except TimeoutError:
        return False
    finally:
        writer.close()


async def test_fastagi_refuses_sessions_over_the_cap_and_without_the_key() -> None:
    handled: list[str] = []
    release, started = asyncio.Event(), asyncio.Event()

    async def handler(session: AgiSession) -> None:
        handled.append(session.script)
        started.set()
        await release.wait()

    server = FastAgiServer(handler, "127.0.0.1", 0, max_sessions=1, secret="k3y")
    await server.start()
    try:
        first = asyncio.create_task(_agi_peer(server.port, "ivr?key=k3y", lambda c: None, []))
        await asyncio.wait_for(started.wait(), 5)
        over = await _agi_peer(server.port, "ivr?key=k3y", lambda c: None, [])  # closed at once
        release.set()
        await first
        wrong = await _agi_peer(server.port, "ivr?key=guess", lambda c: None, [])
        missing = await _agi_peer(server.port, "ivr", lambda c: None, [])
    finally:
        await server.close()
    assert (over, wrong, missing) == (True, True, True)
    assert handled == ["ivr"] and server.rejected == 3 and server.active == 0


async def _channel_run(answer: Callable[[str], bytes | None], work: Callable[[AgiChannel], object],
                       command_timeout: float = 5.0) -> tuple[object, list[str]]:
    settings = AsteriskSettings(fastagi=FastAgiSettings(command_timeout=command_timeout))
    result: list[object] = []

    async def handler(session: AgiSession) -> None:
        channel = AgiChannel(session, settings)
        try:
            result.append(await work(channel))  # type: ignore[misc]
        except Exception as exc:
            result.append(exc)

    server = FastAgiServer(handler, "127.0.0.1", 0)
    await server.start()
    commands: list[str] = []
    try:
        await _agi_peer(server.port, "ivr", answer, commands)
    finally:
        await server.close()
    return result[0], commands


PROMPT = Prompt("Welcome", "en", audio="en/welcome", key="nodes.w.prompt")


async def test_a_missing_prompt_file_is_skipped_not_a_hangup() -> None:
    """Defect 1 (the bytes of Asterisk 22.10.1): `200 result=-1 endpos=0` and the channel up."""
    def answer(command: str) -> bytes:
        if command.startswith("STREAM FILE"):
            return b"200 result=-1 endpos=0\n"
        if command == "CHANNEL STATUS":
            return b"200 result=6\n"
        return b"200 result=1\n"

    async def work(ch: AgiChannel) -> list[str]:
        await ch.play([PROMPT])
        await ch.set_data("x", "1")
        return ch.missing_audio

    missing, commands = await _channel_run(answer, work)
    assert missing == ["hotline/en/welcome"]
    assert commands == ['STREAM FILE hotline/en/welcome ""', "CHANNEL STATUS", 'SET VARIABLE HOTLINE_DATA_X "1"']


async def test_a_hangup_during_a_prompt_is_still_a_hangup() -> None:
    def answer(command: str) -> bytes:
        if command.startswith("STREAM FILE"):
            return b"200 result=-1 endpos=0\nHANGUP\n"
        return b"511 Command Not Permitted on a dead channel or intercepted channel\n"

    got, _ = await _channel_run(answer, lambda ch: ch.play([PROMPT]))
    assert isinstance(got, CallerHangup)


async def test_every_agi_command_has_a_timeout() -> None:
    got, commands = await _channel_run(lambda c: None, lambda ch: ch.play([PROMPT]), command_timeout=0.2)
    assert isinstance(got, ChannelError) and "no reply" in str(got)
    assert commands == ['STREAM FILE hotline/en/welcome ""']


async def test_lists_refused_while_asterisk_boots_are_read_again_on_fully_booted() -> None:
    """Defect 5: `DeviceStateList refused` during the boot, then FullyBooted: resync again."""
    fake = FakeAsterisk(secret="s3cret")
    await fake.start()
    fake.refuse = {"DeviceStateList", "PJSIPShowEndpoints"}  # Asterisk still loading its modules
    fake.devices["PJSIP/1001"] = "NOT_INUSE"
    clock = AsyncioClock()
    acd = Acd(clock, [QueueConfig("general")])
    acd.add_agent(AgentConfig("1001", skills={"general": 1}))
    settings = AsteriskSettings(ami=ami_settings(fake.port), fastagi=FastAgiSettings(port=0))
    service = AsteriskService(settings, acd, MenuRegistry(), clock=clock)
    async with running(service):
        await service.ami.wait_ready(5)
        assert "1001" not in service.control.devices  # refused: no phone state yet
        fake.refuse = set()
        fake.emit("FullyBooted", [("Status", "Fully Booted")], privilege="system,all")
        await fake.wait_for(lambda: len(fake.received("DeviceStateList")) >= 2)
        await asyncio.wait_for(service.drain(), 5)  # the resync FullyBooted started
    await fake.close()
    assert service.resyncs >= 2 and service.control.devices["1001"].value == "free"
