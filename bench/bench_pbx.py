"""Hotline's routing beside Asterisk's app_queue on the same real PBX, under the same SIPp load.

`python -m bench pbx` (or `python -m bench.bench_pbx --help` for the options). One Asterisk
(tools/pbx/build.sh), one run: for each case the two modes are run alternately on the same
PBX: Hotline (the IVR hands the caller to the ACD, Hotline Redirects it to an agent) and
app_queue (a generated queues.conf with the same agents as `Local/` members). Agents are
`Local/<id>@bench-agents` channels that answer and talk for the talk time. Both dialplans
record with MixMonitor. Measured from Asterisk's own events on a separate AMI session:
join (VarSet HOTLINE_QUEUE / QueueCallerJoin) to connect (the caller's BridgeEnter),
calls connected and lost, agent utilisation (talk time / agents x span), and the CPU time of
the Hotline process and of Asterisk (from /proc) over the run.

Cases (the issue's): 5/15/40 calls/s x 100/1,000 agents with 20 s talk, and the agent-bound
case (10 agents, 5 calls/s, 30 s maximum wait). `--quick` runs a reduced set; `--soak N`
sends N calls at 40 calls/s to Hotline and checks that none is lost (`--anchor`: then the
same N to app_queue, printed beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from asterisk.ami_parser import AmiMessage
from asterisk.errors import AmiError
from tests.pbx.asterisk_proc import CALLER_INFO, AsteriskProcess, build_asterisk
from tests.pbx.hotline_proc import HotlineProcess
from tests.pbx.peers import spawn
from tests.pbx.world import AmiProxy, free_port

MENU = Path(__file__).with_name("pbx_menu.yaml")
FULL = [(rate, agents, 20.0, 0) for agents in (100, 1000) for rate in (5, 15, 40)] + [(5, 10, 20.0, 30)]
QUICK = [(5, 100, 5.0, 0), (5, 10, 5.0, 30)]


@dataclass
class Case:
    rate: int
    agents: int
    talk: float
    max_wait: int  # 0: none
    seconds: float  # how long calls are offered

    @property
    def calls(self) -> int:
        return max(1, round(self.rate * self.seconds))

    def label(self) -> str:
        wait = f", max wait {self.max_wait} s" if self.max_wait else ""
        return f"{self.rate} calls/s, {self.agents} agents, {self.talk:g} s talk{wait}"


@dataclass
class Result:
    mode: str
    offered: int
    connected: int = 0
    waits: list[float] = field(default_factory=list)
    utilisation: float = 0.0
    cpu_hotline: float = 0.0
    cpu_asterisk: float = 0.0
    span: float = 0.0
    never_joined: int = 0  # offered calls that never reached the queue (the IVR, SIP)
    never_connected: list[str] = field(default_factory=list)  # joined, never bridged to an agent

    def row(self) -> str:
        w = sorted(self.waits)
        p50 = statistics.median(w) * 1000 if w else float("nan")
        p95 = w[min(len(w) - 1, int(0.95 * len(w)))] * 1000 if w else float("nan")
        mx = w[-1] * 1000 if w else float("nan")
        return (f"{self.mode:<9} {self.connected:>5}/{self.offered:<5} {p50:>9.0f} {p95:>9.0f} {mx:>9.0f} "
                f"{self.utilisation:>6.0%} {self.cpu_hotline:>8.1f}s {self.cpu_asterisk:>8.1f}s")


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hotline_config(h: HotlineProcess, agents: int, case: Case) -> str:
    ids = [str(10000 + i) for i in range(agents)]
    agent_lines = "\n".join(f'  - {{id: "{a}", skills: {{general: 5}}}}' for a in ids)
    endpoints = ", ".join(f'"{a}": Local/{a}@bench-agents' for a in ids)
    max_wait = f", max_wait: {case.max_wait}" if case.max_wait else ""
    return f"""name: Hotline PBX benchmark
acd: {{pause_on_ring_no_answer: false}}
queues:
  - {{name: general, skills: {{general: 1}}, ring_timeout: 15, wrap_up: 0{max_wait}}}
agents:
{agent_lines}
asterisk:
  ami: {{host: 127.0.0.1, port: {h.ami_port}, username: hotline, secret: bench-secret, connect_timeout: 2,
         action_timeout: 10, backoff_initial: 0.2, backoff_max: 2}}
  fastagi: {{host: 127.0.0.1, port: {h.agi_port}, max_sessions: 2000}}
  hotline_numbers: ["1588"]
  endpoints: {{{endpoints}}}
  ring_timeout: 10
  recordings_dir: {h.recordings}
  sip_bind: 127.0.0.1:{h.sip_port}
  menu: pbx-bench
  survey_entry: ""
api: {{host: 127.0.0.1, port: {h.api_port}}}
store: {{data_dir: data}}
ivr: {{menus: [{MENU}], default_menu: pbx-bench}}
"""


def bench_dialplan(agents: int, case: Case, rec: Path) -> tuple[str, str]:
    """extensions_local.conf (the agents, the app_queue number) and queues.conf."""
    wait = f",{case.max_wait}" if case.max_wait else ","
    extensions = (
        "[bench-agents]\n"
        f"exten => _X.,1,Answer()\n same => n,Wait({case.talk:g})\n same => n,Hangup()\n\n"
        "[bench-queue]\n"
        "exten => 1589,1,Answer()\n"
        f" same => n,MixMonitor({rec}/${{UNIQUEID}}.wav,b)\n"
        f" same => n,Queue(bench,,,,{wait.lstrip(',')})\n same => n,Hangup()\n"
    )
    members = "".join(f"member => Local/{10000 + i}@bench-agents/n\n" for i in range(agents))
    queues = ("[general]\nshared_lastcall = no\n\n[bench]\nstrategy = leastrecent\ntimeout = 15\nretry = 2\n"
              f"ringinuse = no\nwrapuptime = 0\nautofill = yes\nannounce-frequency = 0\nmusicclass = default\n{members}")
    return extensions, queues


class Watch:
    """The test AMI session's events: join and connect times per caller channel."""

    def __init__(self, pbx: AsteriskProcess) -> None:
        self.pbx = pbx
        self.start = 0

    def mark(self) -> None:
        self.start = len(self.pbx.events)

    def measure(self, mode: str) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        joined: dict[str, float] = {}
        connected: dict[str, float] = {}
        ended: dict[str, float] = {}
        for msg, at in zip(self.pbx.events[self.start:], self.pbx.event_times[self.start:], strict=True):
            chan = msg.get("Channel")
            if not chan.startswith(f"PJSIP/{CALLER_INFO}-"):
                continue
            if _joined(msg, mode):
                joined.setdefault(chan, at)
            elif msg.name == "BridgeEnter":
                connected.setdefault(chan, at)
            elif msg.name == "Hangup":
                ended[chan] = at
        return joined, connected, ended


def _joined(msg: AmiMessage, mode: str) -> bool:
    if mode == "hotline":
        return msg.name == "VarSet" and msg.get("Variable") == "HOTLINE_QUEUE" and bool(msg.get("Value"))
    return msg.name == "QueueCallerJoin"


async def run_mode(mode: str, case: Case, pbx: AsteriskProcess, hotline: HotlineProcess, watch: Watch,
                   scenario: Path, folder: Path) -> Result:
    result = Result(mode, case.calls)
    watch.mark()
    cpu_h, cpu_a = cpu_seconds(hotline.proc.pid if hotline.proc else None), cpu_seconds(pbx.pid)
    began = time.monotonic()
    number = "1588" if mode == "hotline" else "1589"
    limit = case.calls
    proc = spawn(
        ["sipp", f"127.0.0.1:{pbx.sip_port}", "-sf", str(scenario), "-s", number, "-m", str(case.calls),
         "-r", str(case.rate), "-l", str(limit), "-i", "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)),
         "-mp", str(random.randrange(40000, 60000, 2)), "-nostdin", "-timeout",
         f"{int(case.seconds + case.talk + (case.max_wait or 60) + 120)}s", "-timeout_error", "-max_socket", "4096"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        await asyncio.to_thread(proc.wait)
    finally:
        if proc.poll() is None:
            proc.kill()
    result.span = time.monotonic() - began
    result.cpu_hotline = cpu_seconds(hotline.proc.pid if hotline.proc else None) - cpu_h if mode == "hotline" else 0.0
    result.cpu_asterisk = cpu_seconds(pbx.pid) - cpu_a
    joined, connected, ended = watch.measure(mode)
    result.connected = len(connected)
    result.never_joined = max(0, case.calls - len(joined))
    result.never_connected = sorted(c for c in joined if c not in connected)
    result.waits = [connected[c] - joined[c] for c in connected if c in joined]
    talk = sum(ended[c] - connected[c] for c in connected if c in ended)
    result.utilisation = talk / (case.agents * result.span) if result.span else 0.0
    return result


def caller_scenario(folder: Path) -> Path:
    """Answered, then waits for Asterisk's BYE (after the talk, or the max wait)."""
    from tests.pbx.peers import WaitBye, scenario_xml

    path = folder / "bench-caller.xml"
    path.write_text(scenario_xml(CALLER_INFO, [WaitBye(900_000)], folder))
    return path


async def run(cases: list[Case], soak: int, keep: bool, anchor: bool = False) -> int:
    prefix = build_asterisk()
    lost = 0
    for case in cases:
        run_dir = Path(tempfile.mkdtemp(prefix="hlbench-", dir="/tmp"))
        pbx = AsteriskProcess(prefix, run_dir / "pbx", sip_port=free_port(socket.SOCK_DGRAM), ami_port=free_port(),
                              rtp_base=random.randrange(20000, 30000, 400), rtp_span=8000)
        proxy = AmiProxy(pbx.ami_port)
        hotline = HotlineProcess(run_dir / "hotline", api_port=free_port(), ami_port=proxy.port,
                                 agi_port=free_port(), sip_port=pbx.sip_port,
                                 recordings=pbx.spool / "monitor" / "hotline")
        hotline.write_config(hotline_config(hotline, case.agents, case))
        parts = hotline.asterisk_parts(pbx.etc)
        parts["manager.conf"] = parts["manager.conf"].replace(f"port = {proxy.port}\n", f"port = {pbx.ami_port}\n")
        pbx.configure(parts)
        extensions, queues = bench_dialplan(case.agents, case, hotline.recordings)
        (pbx.etc / "queues.conf").write_text(queues)
        # the benchmark's callers reach app_queue's number too
        (pbx.etc / "pjsip_local.conf").write_text((pbx.etc / "pjsip_local.conf").read_text().replace(
            "context = hotline-incoming", "context = bench-entry"))
        (pbx.etc / "extensions_local.conf").write_text(
            extensions + "\n[bench-entry]\ninclude => hotline-incoming\ninclude => bench-queue\n")
        try:
            await proxy.start()
            await pbx.start()
            await hotline.start()
            for i in range(case.agents):
                await hotline.api("POST", f"/api/agents/{10000 + i}/state", {"action": "login"})
            watch = Watch(pbx)
            scenario = caller_scenario(run_dir)
            print(f"-- {case.label()}: {case.calls} calls per mode", flush=True)
            print(f"{'mode':<9} {'connected':>11} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'util':>6} "
                  f"{'CPU Hotl.':>9} {'CPU Ast.':>9}", flush=True)
            modes = ["hotline", "app_queue"] if not soak or anchor else ["hotline"]
            for mode in modes:
                result = await run_mode(mode, case, pbx, hotline, watch, scenario, run_dir)
                print(result.row(), flush=True)
                counted = mode == "hotline" if soak else not case.max_wait  # app_queue only beside the soak
                if counted:
                    lost += result.offered - result.connected
                if result.offered != result.connected:
                    fallthrough = pbx.full_log().count("Auto fallthrough")
                    print(f"   {mode}: {result.never_joined} never queued, {len(result.never_connected)} queued but "
                          f"never connected {result.never_connected[:10]}; Asterisk's 'Auto fallthrough' lines so "
                          f"far: {fallthrough}", flush=True)
                await _settle(pbx)
        finally:
            await hotline.stop()
            await pbx.stop()
            await proxy.close()
            if not keep:
                shutil.rmtree(run_dir, ignore_errors=True)
    if soak:
        print(f"soak: {lost} call(s) lost", flush=True)
    return 1 if soak and lost else 0


async def _settle(pbx: AsteriskProcess, within: float = 120.0) -> None:
    """Wait for the PBX to be empty between modes (each mode starts from no call)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:  # a busy PBX's actions time out: bounded by time, not tries
        try:
            if not await pbx.channels():
                return
        except AmiError as exc:  # an overloaded PBX answers late: try again, do not abort the run
            print(f"   (PBX busy: {exc})", flush=True)
        await asyncio.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pbx", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced cases (a few minutes)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of offered load per case and mode")
    parser.add_argument("--soak", type=int, default=0, metavar="CALLS",
                        help="send CALLS calls at 40 calls/s to Hotline (1,000 agents, 20 s talk); fail if any is lost")
    parser.add_argument("--anchor", action="store_true",
                        help="with --soak: send the same calls to app_queue afterwards (its losses are printed, not counted)")
    parser.add_argument("--case", action="append", default=[], metavar="RATE,AGENTS,TALK[,MAXWAIT]",
                        help="run this case instead of the standard ones (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the run folders (logs)")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args([a for a in raw if a not in ("pbx", "bench_pbx")])
    if args.soak:
        cases = [Case(40, 1000, 20.0, 0, args.soak / 40)]
    elif args.case:
        cases = []
        for text in args.case:
            rate, agents, talk, *rest = text.split(",")
            cases.append(Case(int(rate), int(agents), float(talk), int(rest[0]) if rest else 0, args.seconds))
    else:
        chosen = QUICK if args.quick else FULL
        cases = [Case(r, a, t, w, min(args.seconds, 20.0) if args.quick else args.seconds) for r, a, t, w in chosen]
    return asyncio.run(run(cases, args.soak, args.keep, args.anchor))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
