"""IVR benchmarks (no speech model: the recognizer is bench_speech's subject).

1. Interpreter cost per call: callers walking the sample airline menu to a queue (7-8 nodes,
   keys and recognized keywords, a retry), all through the scripted channel, 1 and 200 at a
   time on one event loop. Baseline in the same run: the same channel operations awaited
   directly without the interpreter, so the difference is what menus-as-data cost.
2. Checker: time to check (load, schema, semantics) the sample menu, against plain
   yaml.safe_load of the same text (the baseline).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from acd.clock import VirtualClock
from ivr.channel import DigitSpec, Prompt, SpeechSpec, TransferRequest
from ivr.checker import check_menu
from ivr.interpreter import run_menu
from ivr.menu import Menu
from ivr.scripted import Action, Press, Say, ScriptedChannel

MENU_FILE = Path(__file__).resolve().parents[1] / "config" / "menus" / "airline.yaml"
OPEN = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Seoul")).timestamp()


def _script(i: int) -> list[Action]:
    if i % 2:
        return [Press("1"), Say("환불", 0.5), Say("환불"), Press("1234567890124")]
    return [Press("2"), Say("booking"), Press("123455")]


async def _interpreted(menu: Menu, calls: int, concurrency: int) -> float:
    clock = VirtualClock(OPEN)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            ch = ScriptedChannel(_script(i), caller="+821012345678", call_id=f"c{i}")
            out = await run_menu(menu, ch, clock=clock, on_event=lambda e: None)
            assert out.transfer is not None

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    return time.perf_counter() - started


async def _direct(calls: int, concurrency: int) -> float:
    """The same channel traffic with the menu hard-coded (no interpreter)."""
    sem = asyncio.Semaphore(concurrency)
    p = [Prompt("...", "ko")]
    keys = DigitSpec()
    listen = SpeechSpec("ko", ("예약", "환불", "상담원"))

    async def one(i: int) -> None:
        async with sem:
            ch = ScriptedChannel(_script(i), caller="+821012345678", call_id=f"c{i}")
            await ch.play(p)
            await ch.gather(p, digits=keys, speech=None)
            await ch.set_data("language", "ko")
            for _ in range(2 if i % 2 else 1):
                await ch.gather(p, digits=keys, speech=listen)
            await ch.gather(p, digits=DigitSpec(max_digits=13), speech=None)
            await ch.set_data("ref", "x")
            await ch.play(p)
            await ch.transfer(TransferRequest("refund"))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    return time.perf_counter() - started


def main() -> int:
    text = MENU_FILE.read_text(encoding="utf-8")
    result = check_menu(text, str(MENU_FILE))
    assert result.menu is not None
    menu = result.menu
    calls = 2000
    print("1. interpreter: calls walking the airline menu to a queue (one core)")
    for concurrency in (1, 200):
        asyncio.run(_interpreted(menu, 100, concurrency))  # warm-up
        walked = asyncio.run(_interpreted(menu, calls, concurrency))
        direct = asyncio.run(_direct(calls, concurrency))
        print(
            f"   {concurrency:3} at a time: {calls / walked:8.0f} calls/s "
            f"({walked / calls * 1e6:6.0f} us/call); baseline without interpreter "
            f"{calls / direct:8.0f} calls/s ({direct / calls * 1e6:5.0f} us/call); "
            f"interpreter overhead {(walked - direct) / calls * 1e6:5.0f} us/call"
        )
    runs = 30
    started = time.perf_counter()
    for _ in range(runs):
        check_menu(text)
    checked = (time.perf_counter() - started) / runs
    started = time.perf_counter()
    for _ in range(runs):
        yaml.safe_load(text)
    parsed = (time.perf_counter() - started) / runs
    print(
        f"2. checker: {checked * 1e3:.1f} ms per check of the sample menu "
        f"({len(menu.nodes)} nodes); baseline yaml.safe_load {parsed * 1e3:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
