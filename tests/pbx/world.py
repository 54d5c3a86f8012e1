"""One real PBX world for the tests: Asterisk, Hotline, two baresip agents, SIPp callers.

    world = World(prefix, run_dir); await world.start()
    await world.ready()                      # before each test: everything up, agents as wanted
    caller = world.caller(CALLER_INFO, [Pause(1500), Info("1"), ...]); await caller.start()
    await world.cut_ami(); await world.restore_ami()   # Hotline's AMI link goes through a proxy
    await world.restart_hotline(kill=True); await world.restart_asterisk()
    await world.stop()

Ports come from the kernel (bind port 0) and the RTP range is random; the run folder is short
(the Asterisk control socket path must fit in 108 bytes). Every process is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
import subprocess
import urllib.error
from pathlib import Path

from tests.pbx.asterisk_proc import AsteriskProcess
from tests.pbx.hotline_proc import AGENTS, LOCAL_AGENTS, HotlineProcess
from tests.pbx.peers import BaresipAgent, SippCaller, Step

PROMPTS = ("welcome", "main", "booking-ref", "callback-offer", "callback-confirm", "survey", "goodbye",
           "disruption")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_sip_port() -> int:
    """A port free for UDP and TCP both: baresip binds its SIP port on TCP (and TLS) too,
    and a port only UDP-free made it fail to start on a busy machine."""
    while True:
        port = free_port(socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken on TCP: draw another
        return port


class AmiProxy:
    """TCP proxy between Hotline and Asterisk's AMI: the tests cut and restore the link."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.open = True
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._links |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._links -= {writer, up_writer}

    def cut(self) -> None:
        self.open = False
        for link in list(self._links):
            link.close()

    def restore(self) -> None:
        self.open = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


class World:
    def __init__(self, prefix: Path, run: Path) -> None:
        self.run = run
        sip_port = free_port(socket.SOCK_DGRAM)
        self.pbx = AsteriskProcess(prefix, run / "pbx", sip_port=sip_port, ami_port=free_port(),
                                   rtp_base=random.randrange(20000, 60000, 400))
        self.proxy = AmiProxy(self.pbx.ami_port)
        self.hotline = HotlineProcess(run / "hotline", api_port=free_port(), ami_port=self.proxy.port,
                                      agi_port=free_port(), sip_port=sip_port,
                                      recordings=self.pbx.spool / "monitor" / "hotline")
        self.agents: dict[str, BaresipAgent] = {}
        self.callers: list[SippCaller] = []
        self._n = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.hotline.write_config()
        parts = self.hotline.asterisk_parts(self.pbx.etc)
        # Hotline reaches AMI through the proxy; Asterisk listens behind it.
        parts["manager.conf"] = parts["manager.conf"].replace(f"port = {self.proxy.port}\n",
                                                              f"port = {self.pbx.ami_port}\n")
        self.pbx.configure(parts)
        self._prompts()
        await self.proxy.start()
        await self.pbx.start()
        await self.hotline.start()
        secrets = _passwords(parts["pjsip_hotline.conf"])
        for agent_id in AGENTS:
            self.agents[agent_id] = BaresipAgent(
                agent_id, secrets[agent_id], sip_port=self.pbx.sip_port, folder=self.run / f"agent-{agent_id}",
                ctrl_port=free_port(), local_port=free_sip_port(),
                answer="auto" if agent_id == "1001" else "manual",
                new_ports=lambda: (free_port(), free_sip_port()),
            )
            await self.agents[agent_id].start()

    def _prompts(self) -> None:
        """Short tones as the menu's prompts (8 kHz mono), not `en/not-installed`."""
        folder = self.pbx.data / "sounds" / "hotline" / "en"
        folder.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(PROMPTS):
            subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(folder / f"{name}.wav"),
                            "synth", "0.3", "sine", str(400 + 50 * i)], check=True, timeout=30)

    async def stop(self) -> None:
        for caller in self.callers:
            await caller.stop()
        for agent in self.agents.values():
            await agent.stop()
        await self.hotline.stop()
        await self.pbx.stop()
        await self.proxy.close()

    async def ready(self, available: tuple[str, ...] = ("1001",)) -> None:
        """Before a test: no call left on the PBX; exactly `available` agents take calls."""
        for caller in self.callers:
            await caller.stop()
        self.callers.clear()
        self.proxy.restore()
        if self.pbx.proc is None:
            await self.pbx.start()
        if self.hotline.proc is None:
            await self.hotline.start()
        try:
            await until(lambda: self._no_channels(), within=10, what="no channel left on the PBX")
        except AssertionError:  # a previous test's leftover: hang it up so this one starts clean
            for channel in await self.pbx.channels():
                with contextlib.suppress(Exception):
                    assert self.pbx.ami is not None
                    await self.pbx.ami.action("Hangup", {"Channel": channel.get("Channel")})
            await until(lambda: self._no_channels(), within=10, what="no channel left on the PBX")
        for agent_id in (*AGENTS, *LOCAL_AGENTS):
            await self.set_agent(agent_id, available=agent_id in available)

    async def _no_channels(self) -> bool:
        return not await self.pbx.channels()

    async def set_agent(self, agent_id: str, *, available: bool) -> None:
        state = await self.hotline.agent_state(agent_id)
        if available:
            if state == "logged_out":
                await self.hotline.api("POST", f"/api/agents/{agent_id}/state", {"action": "login"})

            async def free() -> bool:
                current = await self.hotline.agent_state(agent_id)
                if current == "paused":
                    try:
                        await self.hotline.api("POST", f"/api/agents/{agent_id}/state", {"action": "unpause"})
                    except urllib.error.HTTPError as exc:
                        if exc.code != 409:  # unpaused meanwhile (its phone came back): read again
                            raise
                    current = await self.hotline.agent_state(agent_id)
                return current in ("available", "ringing", "on_call")  # takes calls

            await until(free, within=40, what=f"agent {agent_id} available (phone registered)")
        elif state not in ("logged_out",):
            await self.hotline.api("POST", f"/api/agents/{agent_id}/state", {"action": "logout"})

    def caller(self, number: str, steps: list[Step], dialled: str = "1588") -> SippCaller:
        self._n += 1
        caller = SippCaller(number, dialled, sip_port=self.pbx.sip_port, folder=self.run / f"caller-{self._n}",
                            steps=steps, local_port=free_port(socket.SOCK_DGRAM),
                            media_port=random.randrange(40000, 60000, 2))
        self.callers.append(caller)
        return caller

    # -- faults ------------------------------------------------------------------------------

    async def restart_hotline(self, *, kill: bool) -> None:
        await (self.hotline.kill() if kill else self.hotline.stop())
        await self.hotline.start()

    async def restart_asterisk(self) -> None:
        await self.pbx.stop()
        await self.pbx.start()
        for agent in self.agents.values():  # register again (contacts are unqualified after a restart)
            await agent.stop()
            await agent.start()


async def until(predicate: object, *, within: float, what: str, every: float = 0.1) -> None:
    """Wait until `predicate()` (sync or async) is true; the condition is polled."""
    async def wait() -> None:
        while True:
            value = predicate()  # type: ignore[operator]
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            await asyncio.sleep(every)

    try:
        await asyncio.wait_for(wait(), within)
    except TimeoutError:
        raise AssertionError(f"not within {within} s: {what}") from None


def _passwords(pjsip: str) -> dict[str, str]:
    return dict(re.findall(r"^\[(\w+)\]\(hotline-auth\)\nusername = .*\npassword = (.*)$", pjsip, re.MULTILINE))
