"""Asterisk adapter benchmarks.

1. AMI events per second, parse -> event table -> ACD -> agent/call state, on one core, for a
   stream built from the real Asterisk 22 capture of a queue call (tests/fixtures/asterisk,
   ~500 events per call in that capture incl. the app_queue ones, re-labelled per call). Measured
   for the raw stream (manager.conf without filters) and for the filtered one (the generated
   manager.conf's eventfilters). The figure that counts is the filtered end-to-end rate (the
   events the ACD acts on), against the goal (20,000/s) and the reference PBX's loads (720/s at
   15 calls/s, 3.5k/s at 40 calls/s, bursts 7-9k/s, unfiltered, scaled by the filter's share).
   Anchors alternated round by round in the same run: parse only, and panoramisk 1.4's
   framing + Message parsing of the same bytes.
2. Routing reaction time when an agent becomes free while callers wait: Hotline's event-driven
   path (DeviceStateChange bytes in -> Redirect action written), measured; against app_queue,
   whose waiting callers re-check for a free agent every `retry` seconds (simulated here with
   the reference PBX's retry=2 and the default retry=5).
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import time
from pathlib import Path

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import CallEnded
from acd.queue import QueueConfig
from asterisk.ami_client import ActionResult
from asterisk.ami_parser import AmiMessage, AmiParser, Kind
from asterisk.control import CallControl
from asterisk.events import USED_EVENTS
from asterisk.settings import AsteriskSettings

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "asterisk" / "d-queue-call-agent-answer-ami.txt"
CALLER_ID, AGENT_LEG_ID = "1795422444.13", "1795422444.14"
CALLER_CHAN, AGENT_CHAN = "PJSIP/2001-00000001", "PJSIP/1001-00000002"
LOADS = {"15 calls/s, 20 s calls": 720, "40 calls/s, 2 s calls": 3_500, "overload burst": 9_000}
GOAL = 20_000


class NullAmi:
    """Accepts actions without a network: the benchmark measures Hotline, not the socket."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    async def action(
        self, name: str, fields: dict[str, str | list[str]] | None = None, *, within: float | None = None
    ) -> ActionResult:
        self.sent.append((name, time.perf_counter()))
        return ActionResult(AmiMessage(Kind.RESPONSE, "Success", {"Response": "Success"}))


def call_template() -> list[str]:
    """The capture's frames from the call's first event to the last DeviceStateChange after it."""
    frames: list[list[str]] = []
    current: list[str] = []
    for raw in FIXTURE.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("S: "):
            continue
        text = raw[3:]
        if text == "":
            if current:
                frames.append(current)
            current = []
        else:
            current.append(text)
    start = next(i for i, f in enumerate(frames) if any(CALLER_ID in line for line in f))
    end = max(i for i, f in enumerate(frames) if any(CALLER_ID in line for line in f))
    events = [f for f in frames[start : end + 4] if f[0].startswith("Event: ")]
    return ["\r\n".join(f) + "\r\n\r\n" for f in events]


def stream(calls: int, agents: int, filtered: bool) -> tuple[list[list[bytes]], int]:
    """Per call, the bytes Asterisk sends (4 KiB reads), and the number of events in all."""
    template = call_template()
    if filtered:
        keep = tuple(f"Event: {name}\r\n" for name in USED_EVENTS)
        template = [f for f in template if f.startswith(keep)]
        template = [f for f in template if not f.startswith("Event: DeviceStateChange") or "PJSIP/" in f]
    chunks: list[list[bytes]] = []
    for n in range(calls):
        agent = f"{2000 + n % agents}"
        text = "".join(template)
        text = text.replace(CALLER_ID, f"c{n}.1").replace(AGENT_LEG_ID, f"c{n}.2")
        text = text.replace(CALLER_CHAN, f"PJSIP/caller-{n:08x}").replace(AGENT_CHAN, f"PJSIP/{agent}-{n:08x}")
        text = text.replace("PJSIP/1001", f"PJSIP/{agent}")
        data = text.encode()
        chunks.append([data[i : i + 4096] for i in range(0, len(data), 4096)])
    return chunks, len(template) * calls


def build(agents: int) -> tuple[Acd, CallControl, NullAmi]:
    acd = Acd(VirtualClock(), [QueueConfig("q", ring_timeout=None, wrap_up=0)])
    for i in range(agents):
        acd.add_agent(AgentConfig(f"{2000 + i}"))
        acd.login(f"{2000 + i}")
    ami = NullAmi()
    control = CallControl(acd, AsteriskSettings(), ami, defer=lambda fn: fn())
    return acd, control, ami


async def end_to_end(calls: int, agents: int, filtered: bool) -> tuple[float, int, int]:
    chunks, events = stream(calls, agents, filtered)
    acd, control, _ = build(agents)
    ended: list[CallEnded] = []
    acd.subscribe(lambda e: ended.append(e) if isinstance(e, CallEnded) else None)
    parser = AmiParser()
    parser.feed(b"Asterisk Call Manager/11.0.0\r\n")
    gc.collect()
    started = time.perf_counter()
    for n, call_chunks in enumerate(chunks):
        control.enqueue(f"c{n}.1", f"PJSIP/caller-{n:08x}", "q")
        for chunk in call_chunks:
            for message in parser.feed(chunk):
                if message.kind is Kind.EVENT:
                    control.handle_ami(message)
        if n % 100 == 0:
            await asyncio.sleep(0)  # let the Redirect tasks run, as the live loop would
    await control.drain()
    elapsed = time.perf_counter() - started
    return elapsed, events, len(ended)


def parse_only(chunks: list[list[bytes]]) -> float:
    parser = AmiParser()
    started = time.perf_counter()
    for call_chunks in chunks:
        for chunk in call_chunks:
            parser.feed(chunk)
    return time.perf_counter() - started


def panoramisk_parse(per_call: list[list[bytes]]) -> float | None:
    try:
        from panoramisk.message import Message
    except ImportError:
        return None
    chunks = [c for call_chunks in per_call for c in call_chunks]
    started = time.perf_counter()
    buf = ""
    for chunk in chunks:  # what AMIProtocol.data_received does with each read
        data = buf + chunk.decode("ascii", "ignore")
        parts = data.split("\r\n\r\n")
        buf = parts.pop()
        for part in parts:
            Message.from_line(part.strip())
    return time.perf_counter() - started


def throughput() -> bool:
    """Subject (end to end) and anchors (parse only, panoramisk) alternate round by round in
    one run; min and median per figure. The figure held against the goal is the filtered end
    to end rate: the events the ACD acts on, with the generated manager.conf's filters."""
    calls, agents, rounds = 1_000, 200, 5
    ok = True
    print(f"1. AMI events/s, parse -> event table -> ACD -> state ({calls} calls, {agents} agents, one core,"
          f" {rounds} alternated rounds, min / median: the machine is shared)")
    for filtered in (False, True):
        chunks, events = stream(calls, agents, filtered)
        label = "filtered (generated manager.conf)" if filtered else "unfiltered (every event)"
        rates: dict[str, list[float]] = {"end to end": [], "parse only": [], "panoramisk 1.4": []}
        ended_counts = []
        for _ in range(rounds):
            elapsed, _, ended = asyncio.run(end_to_end(calls, agents, filtered))
            rates["end to end"].append(events / elapsed)
            ended_counts.append(ended)
            rates["parse only"].append(events / parse_only(chunks))
            base = panoramisk_parse(chunks)
            if base is not None:
                rates["panoramisk 1.4"].append(events / base)
        print(f"   {label}: {events / calls:.0f} events/call, {events:,} events")
        for name, values in rates.items():
            if values:
                suffix = " (baseline, same bytes, parse only)" if name.startswith("panoramisk") else ""
                print(f"     {name:15s} min {min(values):>10,.0f}  median {statistics.median(values):>10,.0f} events/s"
                      f"{suffix}")
        median = statistics.median(rates["end to end"])
        print(f"     end to end: {calls / (events / median):,.0f} calls/s at the median")
        if min(ended_counts) != calls:
            print(f"     !! only {min(ended_counts)} of {calls} calls reached the end state")
            ok = False
        if filtered:
            for name, load in LOADS.items():
                print(f"     vs {name} ({load:,} events/s unfiltered = {load * events_share(filtered):,.0f} "
                      f"filtered): {median / (load * events_share(filtered)):,.1f}x headroom")
            verdict = "meets" if median >= GOAL else "MISSES"
            print(f"     goal {GOAL:,} filtered events/s end to end (median): {verdict}")
            ok = ok and median >= GOAL
    return ok


def events_share(filtered: bool) -> float:
    """Share of the capture's events that pass the generated filters (1 unfiltered)."""
    if not filtered:
        return 1.0
    return stream(1, 1, True)[1] / stream(1, 1, False)[1]


# -- 2. routing reaction ------------------------------------------------------------------------


async def reaction_samples(samples: int) -> list[float]:
    """Seconds from a freeing DeviceStateChange's bytes to the Redirect action being issued."""
    acd, control, ami = build(0)
    acd.add_agent(AgentConfig("3000"))
    acd.login("3000")
    parser = AmiParser()
    parser.feed(b"Asterisk Call Manager/11.0.0\r\n")
    busy = b"Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: PJSIP/3000\r\nState: INUSE\r\n\r\n"
    free = b"Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: PJSIP/3000\r\nState: NOT_INUSE\r\n\r\n"
    out = []
    for n in range(samples):
        for m in parser.feed(busy):  # a private call: the agent is paused
            control.handle_ami(m)
        control.enqueue(f"r{n}", f"PJSIP/caller-{n}", "q")  # the caller waits
        before = len(ami.sent)
        t0 = time.perf_counter()
        for m in parser.feed(free):
            control.handle_ami(m)
        await control.drain()
        assert len(ami.sent) == before + 1 and ami.sent[-1][0] == "Redirect"
        out.append(ami.sent[-1][1] - t0)
        acd.ring_no_answer(f"r{n}")  # reset: the call goes back, the agent pauses (ring_no_answer)
        acd.unpause("3000")
        control.calls.pop(f"r{n}", None)
        acd.abandon(f"r{n}")
        await control.drain()
    return out


def app_queue_reaction(retry: float, samples: int, seed: int = 3) -> list[float]:
    """app_queue with every member busy re-checks each `retry` s: an agent freed at a uniformly
    random moment waits for the next check (simulated on a timeline of retry ticks)."""
    rng = random.Random(seed)
    out = []
    for _ in range(samples):
        phase = rng.uniform(0, retry)  # when the caller's retry timer started
        freed = rng.uniform(0, 10 * retry)
        ticks = ((freed - phase) // retry + 1) * retry + phase
        out.append(ticks - freed)
    return out


def reaction() -> None:
    print("2. Reaction time: an agent becomes free while a caller waits -> the agent's phone is rung")
    hotline = asyncio.run(reaction_samples(2_000))
    hot_med, hot_p99 = statistics.median(hotline), sorted(hotline)[int(len(hotline) * 0.99)]
    print(f"   Hotline (event-driven, measured): median {hot_med * 1e6:,.0f} us, p99 {hot_p99 * 1e6:,.0f} us")
    for retry in (2.0, 5.0):
        polled = app_queue_reaction(retry, 20_000)
        med, p99 = statistics.median(polled), sorted(polled)[int(len(polled) * 0.99)]
        print(f"   app_queue retry={retry:g} s (simulated polling): median {med:.2f} s, p99 {p99:.2f} s"
              f"  -> Hotline {med / hot_med:,.0f}x faster at the median")


def main() -> int:
    ok = throughput()
    reaction()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
