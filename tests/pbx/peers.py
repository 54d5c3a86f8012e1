"""The tests' SIP peers: baresip softphones as agents, SIPp as callers.

    agent = BaresipAgent("1001", password, sip_port=pbx.sip_port, folder=run / "agent-1001")
    await agent.start(); await agent.registered(); await agent.hangup(); await agent.stop()

    caller = SippCaller(CALLER_RFC, pbx.sip_port, folder, steps=[Pause(1500), Rtp("1234#"),
                        Pause(800), Info("1"), WaitBye(60)])
    await caller.start(); code = await caller.wait(within=90)   # 0 when the scenario passed

baresip answers by itself (`answermode=auto`, or `manual` for ring-no-answer), plays a sine
and records nothing (null audio); `ctrl_tcp` drives it (hang up). SIPp's bundled RFC 2833
captures carry fixed sequence numbers, so the RTP events are generated here (`dtmf_pcap`).
Every process is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BARESIP_MODULES = Path("/usr/lib/baresip/modules")
EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


def spawn(args: list[str], **options: object) -> subprocess.Popen[bytes]:
    """Start a peer process (returns at once: fork and exec, no waiting)."""
    return subprocess.Popen(args, **options)  # type: ignore[call-overload,no-any-return]


async def _stop(proc: subprocess.Popen[bytes] | None, within: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.to_thread(proc.wait), within)
    except TimeoutError:
        proc.kill()
        await asyncio.to_thread(proc.wait)


class BaresipAgent:
    def __init__(self, agent_id: str, password: str, *, sip_port: int, folder: Path, ctrl_port: int,
                 local_port: int, answer: str = "auto",
                 new_ports: Callable[[], tuple[int, int]] | None = None) -> None:
        self.agent_id = agent_id
        self.password = password
        self.sip_port = sip_port
        self.folder = folder
        self.ctrl_port = ctrl_port
        self.local_port = local_port
        self.answer = answer
        self.new_ports = new_ports
        self.proc: subprocess.Popen[bytes] | None = None
        self.events: list[dict[str, object]] = []
        self._changed = asyncio.Event()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._listen: asyncio.Task[None] | None = None

    def _write_config(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        modules = "\n".join(f"module {m}.so" for m in ("g711", "ausine", "aufile", "ctrl_tcp"))
        (self.folder / "config").write_text(
            f"poll_method epoll\nsip_listen 127.0.0.1:{self.local_port}\nsip_transports udp\n"
            f"module_path {BARESIP_MODULES}\n{modules}\nmodule_app account.so\nmodule_app menu.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}\n"
            "audio_player aufile,/dev/null\naudio_source ausine,440\naudio_alert aufile,/dev/null\n"
            "ausrc_srate 48000\nauplay_srate 48000\nausrc_channels 2\nauplay_channels 2\n"
            "rtp_timeout 0\n"
        )
        (self.folder / "accounts").write_text(
            f"<sip:{self.agent_id}@127.0.0.1:{self.sip_port};transport=udp>;auth_pass={self.password};"
            f"answermode={self.answer};regint=600;audio_codecs=PCMU\n"
        )
        (self.folder / "contacts").write_text("")

    async def start(self) -> None:
        """Start the phone. Its ports were free when chosen, but they lie in the kernel's
        ephemeral range: while the phone was stopped an outgoing connection may have taken
        one (baresip then exits, "Address already in use"), so a start that fails that way
        is tried again on fresh ports (`new_ports`); Asterisk learns them at registration."""
        for attempt in range(3):
            if attempt and self.new_ports is not None:
                self.ctrl_port, self.local_port = self.new_ports()
            if await self._start_once():
                self._listen = asyncio.create_task(self._read())
                return
        raise RuntimeError(f"baresip {self.agent_id}: no ctrl_tcp on {self.ctrl_port} "
                           f"(see {self.folder / 'baresip.log'})")

    async def _start_once(self) -> bool:
        self._write_config()
        log = (self.folder / "baresip.log").open("ab")
        self.proc = proc = spawn(["baresip", "-f", str(self.folder)], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        for _ in range(200):
            try:
                self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
                return True
            except OSError:
                if proc.poll() is not None:  # it gave up (a port taken)
                    break
                await asyncio.sleep(0.05)  # the process is starting; nothing to wait on yet
        await _stop(proc)
        return False

    async def _read(self) -> None:
        assert self._reader is not None
        reader = self._reader
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, ValueError):
            while True:
                length = int((await reader.readuntil(b":"))[:-1])
                body = await reader.readexactly(length + 1)
                self.events.append(json.loads(body[:-1]))
                self._changed.set()

    async def command(self, command: str, params: str = "") -> None:
        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()

    async def event(self, kind: str, within: float = 20.0) -> dict[str, object]:
        async def wait() -> dict[str, object]:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if event.get("type") == kind:
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), within)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e.get("type") == kind)

    async def hangup(self) -> None:
        await self.command("hangup")

    async def accept(self) -> None:
        await self.command("accept")

    async def stop(self) -> None:
        if self._listen is not None:
            self._listen.cancel()
        if self._writer is not None:
            self._writer.close()
        await _stop(self.proc)
        self.proc = None


# -- SIPp callers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    ms: int


@dataclass(frozen=True)
class Info:
    """Keys by SIP INFO (application/dtmf-relay), one INFO per key."""
    keys: str
    gap_ms: int = 300


@dataclass(frozen=True)
class Rtp:
    """Keys as RFC 2833 telephone events in the media stream (a generated capture)."""
    keys: str


@dataclass(frozen=True)
class Audio:
    """Play a raw mu-law file into the call (what the caller says), in the background;
    `loops` -1: over and over, 1: once (a spoken answer; RTP stops after it)."""
    path: Path
    loops: int = -1


@dataclass(frozen=True)
class Bye:
    pass


@dataclass(frozen=True)
class WaitBye:
    """Wait for Asterisk to hang up (up to `ms`)."""
    ms: int


Step = Pause | Info | Rtp | Audio | Bye | WaitBye


def dtmf_pcap(keys: str, path: Path, *, media_port: int = 6000, gap_ms: int = 400) -> Path:
    """A pcap of RFC 2833 events for `keys`: rising sequence numbers and timestamps, one event
    of 160 ms per key (4 updates, 3 end packets), `gap_ms` of silence between keys."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
    seq, ts, t_us, ssrc = 1000, 8000, 0, 0x1234ABCD

    def packet(event: int, end: bool, duration: int, marker: bool) -> None:
        nonlocal seq, out
        rtp = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 101, seq & 0xFFFF, ts, ssrc)
        payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
        udp_len = 8 + len(rtp) + len(payload)
        udp = struct.pack("!HHHH", media_port, media_port, udp_len, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp + rtp + payload
        out += struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)) + frame
        seq += 1

    for key in keys:
        event = EVENT_CODES[key]
        for i in range(4):
            packet(event, False, 320 * (i + 1), marker=i == 0)
            t_us += 40_000
        for _ in range(3):
            packet(event, True, 1280, marker=False)
            t_us += 5_000
        t_us += gap_ms * 1000
        ts += 1280 + gap_ms * 8
    path.write_bytes(bytes(out))
    return path


def scenario_xml(caller: str, steps: list[Step], folder: Path) -> str:
    """A SIPp UAC scenario: INVITE (PCMU + telephone-event), ACK, the steps, then BYE."""
    body: list[str] = []
    n = 0
    for step in steps:
        if isinstance(step, Pause):
            body.append(f'<pause milliseconds="{step.ms}"/>')
        elif isinstance(step, Info):
            for key in step.keys:
                body.append(f"""<send><![CDATA[
INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: [cseq] INFO
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal={key}
Duration=160
]]></send>
<recv response="200"/>
<pause milliseconds="{step.gap_ms}"/>""")
        elif isinstance(step, Rtp):
            n += 1
            pcap = dtmf_pcap(step.keys, folder / f"dtmf-{n}.pcap")
            body.append(f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
            body.append(f'<pause milliseconds="{len(step.keys) * 600 + 200}"/>')
        elif isinstance(step, Audio):
            body.append(f'<nop><action><exec rtp_stream="{step.path},{step.loops},0"/></action></nop>')
        elif isinstance(step, WaitBye):
            body.append(f"""<recv request="BYE" timeout="{step.ms}"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
<pause milliseconds="200"/>""")
            return _scenario(caller, "\n".join(body), hangup=False)
    return _scenario(caller, "\n".join(body), hangup=True)


def _scenario(caller: str, steps: str, *, hangup: bool) -> str:
    bye = f"""<send><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: [cseq] BYE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200" timeout="5000"/>""" if hangup else ""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hotline caller">
<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{caller}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: [cseq] INVITE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200" rtd="true"/>
<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: [cseq] ACK
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
{steps}
{bye}
<ResponseTimeRepartition value="10, 20, 50, 100, 500"/>
</scenario>
"""


class SippCaller:
    def __init__(self, caller: str, number: str, *, sip_port: int, folder: Path, steps: list[Step],
                 local_port: int, media_port: int) -> None:
        self.caller = caller
        self.number = number
        self.sip_port = sip_port
        self.folder = folder
        self.steps = steps
        self.local_port = local_port
        self.media_port = media_port
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        xml = self.folder / "caller.xml"
        xml.write_text(scenario_xml(self.caller, self.steps, self.folder))
        log = (self.folder / "sipp.log").open("wb")
        self.proc = spawn(
            ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", str(xml), "-s", self.number, "-m", "1", "-l", "1",
             "-i", "127.0.0.1", "-p", str(self.local_port), "-mp", str(self.media_port), "-nostdin",
             "-trace_err", "-error_file", str(self.folder / "errors.log"), "-timeout", "180s",
             "-timeout_error"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
            start_new_session=True,
        )

    async def wait(self, within: float = 120.0) -> int:
        assert self.proc is not None
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.proc.wait), within)
        except TimeoutError:
            await self.stop()
            raise

    def errors(self) -> str:
        try:
            return (self.folder / "errors.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    async def stop(self) -> None:
        await _stop(self.proc)
