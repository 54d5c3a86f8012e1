"""A real Asterisk for the tests: its own run folder, loopback ports, Hotline's generated files.

    prefix = build_asterisk()                       # tools/pbx/build.sh (built once, reused)
    pbx = AsteriskProcess(prefix, run_dir, sip_port=..., ami_port=..., rtp_base=...)
    pbx.configure(hotline_parts)                    # Hotline's *_hotline.conf + a minimal base
    await pbx.start()                               # waits for FullyBooted on the test AMI user
    await pbx.cli("core show channels")             # Asterisk's own view
    await pbx.stop()                                # by PID, always

    pbx.hold_boot(); await pbx.start(booted=False)  # AMI up, the boot held before res_pjsip
    await pbx.release_boot()                        # ... until the test lets it go on

The base is `hotline asterisk-config --standalone` (which includes Hotline's parts) plus the
test's own `*_local.conf` files: callers' endpoints, a test AMI user, a customer context for
callbacks. Stopped by PID (SIGTERM, then SIGKILL), never by name.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from asterisk.ami_client import AmiClient
from asterisk.ami_parser import AmiMessage
from asterisk.settings import AmiSettings
from tests.pbx.peers import spawn

REPO = Path(__file__).resolve().parents[2]
SOUNDS = Path(os.environ.get("HOTLINE_ASTERISK_SOUNDS", "/usr/share/asterisk"))
TEST_AMI_USER = "tester"
TEST_AMI_SECRET = "tester-secret"
# Caller endpoints (the From user names the endpoint; its name is the caller's number).
CALLER_INFO = "01011110000"  # DTMF by SIP INFO
CALLER_RFC = "01022220000"  # DTMF by RFC 2833/4733 RTP events
# What the tests need beyond Hotline's own modules (modules_hotline.conf).
TEST_MODULES = ("app_echo", "app_verbose", "app_playback", "func_logic", "func_strings", "func_channel",
                "res_pjsip_header_funcs", "res_pjsip_dlg_options", "app_queue", "func_global", "app_stack")


class BuildFailed(RuntimeError):
    pass


def build_asterisk() -> Path:
    """Run tools/pbx/build.sh (reuses an earlier build); the install prefix."""
    proc = subprocess.run(["bash", str(REPO / "tools" / "pbx" / "build.sh")], capture_output=True, text=True,
                          timeout=3600, check=False)
    if proc.returncode != 0:
        raise BuildFailed(f"tools/pbx/build.sh failed:\n{proc.stderr.strip()}")
    return Path(proc.stdout.strip().splitlines()[-1])


class AsteriskProcess:
    def __init__(self, prefix: Path, run_dir: Path, *, sip_port: int, ami_port: int, rtp_base: int,
                 rtp_span: int = 400) -> None:
        self.prefix = prefix
        self.rtp_span = rtp_span
        self.run = run_dir
        self.sip_port = sip_port
        self.ami_port = ami_port
        self.rtp_base = rtp_base
        self.etc = run_dir / "etc"
        self.log_dir = run_dir / "log"
        self.spool = run_dir / "spool"
        self.data = run_dir / "data"
        self.proc: subprocess.Popen[bytes] | None = None
        self.events: list[AmiMessage] = []
        self.event_times: list[float] = []  # time.monotonic() each event arrived
        self.ami: AmiClient | None = None
        self._booted = asyncio.Event()
        self._changed = asyncio.Event()

    # -- configuration -------------------------------------------------------------------------

    def configure(self, files: dict[str, str]) -> None:
        """Write Asterisk's folders, `files` (Hotline's output) and the tests' own parts."""
        for folder in (self.etc, self.log_dir, self.spool, self.data, self.run / "varlib", self.run / "run"):
            folder.mkdir(parents=True, exist_ok=True)
        (self.data / "sounds").mkdir(exist_ok=True)
        for item in (SOUNDS / "sounds").iterdir():  # Debian's sounds, next to Hotline's prompts
            link = self.data / "sounds" / item.name
            if not link.exists():
                link.symlink_to(item)
        if not (self.data / "moh").exists():
            (self.data / "moh").symlink_to(SOUNDS / "moh")
        for item in (self.prefix / "var" / "lib" / "asterisk").iterdir():  # documentation (xmldoc), keys...
            link = self.data / item.name
            if not link.exists() and item.name not in ("sounds", "moh", "astdb.sqlite3"):
                link.symlink_to(item)
        p = self.prefix
        r = self.run
        (self.etc / "asterisk.conf").write_text(
            "[directories]\n"
            f"astetcdir => {self.etc}\nastmoddir => {p}/lib/asterisk/modules\n"
            f"astvarlibdir => {r}/varlib\nastdbdir => {r}/varlib\nastkeydir => {r}/varlib\n"
            f"astdatadir => {self.data}\nastagidir => {r}/agi\nastspooldir => {self.spool}\n"
            f"astrundir => {r}/run\nastlogdir => {self.log_dir}\nastsbindir => {p}/sbin\n"
            "[options]\nverbose = 3\ndebug = 0\nhideconnect = yes\ncache_media_frames = no\n"
            "execincludes = yes\n"  # the boot gate (hold_boot)
        )
        (self.etc / "logger.conf").write_text(
            "[general]\n[logfiles]\nfull => notice,warning,error,verbose(3),dtmf\n"
        )
        (self.etc / "rtp.conf").write_text(f"[general]\nrtpstart = {self.rtp_base}\nrtpend = {self.rtp_base + self.rtp_span - 1}\n")
        self._gate_script()
        for empty in ("cdr.conf", "cel.conf", "features.conf", "acl.conf", "udptl.conf", "pjproject.conf",
                      "ccss.conf", "indications.conf", "queues.conf", "sorcery.conf"):
            path = self.etc / empty
            if not path.exists():
                path.write_text("")
        for name, text in files.items():
            (self.etc / name).write_text(text)
        pjsip = self.etc / "pjsip.conf"
        if pjsip.exists():  # the boot gate: read when res_pjsip loads
            pjsip.write_text(f"#exec {self.run / 'boot-gate.sh'}\n" + pjsip.read_text())
        (self.etc / "modules_local.conf").write_text("".join(f"load = {m}.so\n" for m in TEST_MODULES))
        (self.etc / "manager_local.conf").write_text(
            f"[{TEST_AMI_USER}]\nsecret = {TEST_AMI_SECRET}\npermit = 127.0.0.1/255.255.255.255\n"
            "read = all\nwrite = all\n"
        )
        callers = "".join(
            f"[{number}]\ntype = endpoint\ncontext = hotline-incoming\ndisallow = all\nallow = ulaw\n"
            f"dtmf_mode = {mode}\ndirect_media = no\nrtp_symmetric = yes\nforce_rport = yes\n\n"
            for number, mode in ((CALLER_INFO, "info"), (CALLER_RFC, "rfc4733"))
        )
        (self.etc / "pjsip_local.conf").write_text("; the tests' callers (identified by their From user)\n" + callers)
        (self.etc / "extensions_local.conf").write_text(
            "; a callback's customer: answers, talks a little, hangs up\n"
            "[test-customer]\nexten => _+X.,1,Answer()\n same => n,Wait(2)\n same => n,Hangup()\n\n"
            "; cheap agents for load: answer, talk for 2 s, hang up\n"
            "[test-agents]\nexten => _X.,1,Answer()\n same => n,Wait(2)\n same => n,Hangup()\n"
        )

    # -- the boot gate: a booting Asterisk held where res_pjsip reads pjsip.conf ------------

    def _gate_script(self) -> None:
        """pjsip.conf `#exec`s this script when res_pjsip loads it (after the manager).
        With the FIFO there (`hold_boot`) it blocks reading it until `release_boot` writes:
        Asterisk's AMI is up (the manager loads earlier), PJSIPShowEndpoints and
        DeviceStateList are refused (their modules are not loaded yet)."""
        script = self.run / "boot-gate.sh"
        fifo = self.run / "boot-gate"
        script.write_text(f"#!/bin/sh\n[ -p {fifo} ] && cat {fifo} >/dev/null\necho '; boot gate passed'\n")
        script.chmod(0o755)

    def hold_boot(self) -> None:
        """The next start stops before res_pjsip loads, until `release_boot()`."""
        fifo = self.run / "boot-gate"
        if not fifo.exists():
            os.mkfifo(fifo)

    async def release_boot(self, within: float = 60.0) -> None:
        """Let the held boot go on once it reached the gate (later boots pass through)."""
        fifo = self.run / "boot-gate"

        async def reader_there() -> int:
            while True:
                try:
                    return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as exc:
                    if exc.errno != errno.ENXIO:
                        raise
                await asyncio.sleep(0.05)  # no reader yet: the boot has not reached the gate

        fd = await asyncio.wait_for(reader_there(), within)
        fifo.unlink()
        os.write(fd, b"go\n")
        os.close(fd)

    # -- process -------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def start(self, within: float = 60.0, *, booted: bool = True) -> None:
        """Start Asterisk; wait for FullyBooted (or, with `booted=False`, only for its AMI)."""
        self._booted.clear()
        self.proc = spawn(
            [str(self.prefix / "sbin" / "asterisk"), "-C", str(self.etc / "asterisk.conf"), "-f", "-n", "-q"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.ami = AmiClient(
            AmiSettings(port=self.ami_port, username=TEST_AMI_USER, secret=TEST_AMI_SECRET,
                        connect_timeout=2, action_timeout=10, backoff_initial=0.1, backoff_max=0.5),
            self._on_event, on_connect=self._on_login,
        )
        self.ami.start()
        if not booted:
            await self.ami.wait_ready(within)
            return
        await self.wait_booted(within)

    async def wait_booted(self, within: float = 60.0) -> None:
        try:
            await asyncio.wait_for(self._booted.wait(), within)
        except TimeoutError:
            raise RuntimeError(f"Asterisk not fully booted within {within} s; see {self.log_dir / 'full'}") from None

    async def _on_login(self, client: AmiClient) -> None:
        # FullyBooted is sent to a session logging in after the boot too.
        return None

    def _on_event(self, msg: AmiMessage) -> None:
        self.events.append(msg)
        self.event_times.append(time.monotonic())
        if msg.name == "FullyBooted":
            self._booted.set()
        self._changed.set()

    async def stop(self, within: float = 20.0) -> None:
        if self.ami is not None:
            await self.ami.stop()
            self.ami = None
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), within)
        except TimeoutError:
            proc.kill()
            await asyncio.to_thread(proc.wait)

    async def kill(self) -> None:
        """Gone at once (no clean shutdown)."""
        if self.ami is not None:
            await self.ami.stop()
            self.ami = None
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            await asyncio.to_thread(proc.wait)

    # -- Asterisk's view -----------------------------------------------------------------------

    async def cli(self, command: str) -> str:
        """A CLI command through the test AMI user (`Command` action)."""
        assert self.ami is not None
        await self.ami.wait_ready(10)
        result = await self.ami.action("Command", {"Command": command})
        return "\n".join(result.response.getall("Output"))

    async def channels(self) -> list[AmiMessage]:
        assert self.ami is not None
        await self.ami.wait_ready(10)
        return (await self.ami.action("CoreShowChannels")).items

    async def getvar(self, channel: str, name: str) -> str:
        assert self.ami is not None
        return (await self.ami.action("Getvar", {"Channel": channel, "Variable": name})).response.get("Value")

    def mark(self) -> int:
        """A position in the event log: `event(..., since=mark)` looks only after it."""
        return len(self.events)

    async def event(self, name: str, within: float = 20.0, *, since: int = 0,
                    where: Callable[[AmiMessage], bool] | None = None, **headers: str) -> AmiMessage:
        """The first event `name` (with these headers, passing `where`) after position `since`."""
        async def wait() -> AmiMessage:
            seen = since
            while True:
                for msg in self.events[seen:]:
                    if msg.name == name and all(msg.get(k) == v for k, v in headers.items()) and (
                        where is None or where(msg)
                    ):
                        return msg
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(wait(), within)
        except TimeoutError:
            raise AssertionError(f"no AMI event {name} {headers} within {within} s") from None

    def full_log(self) -> str:
        try:
            return (self.log_dir / "full").read_text(errors="replace")
        except OSError:
            return ""
