"""The IVR editor's cost per change of the draft and per test call (sample airline menu).

1. Draft: what the server does on every (debounced) change: the checker, the parse for node
   lines, the graph's layout and its SVG (`hotline.web.ivr_editor.service._inspect`). Anchor
   in the same run: the checker alone (what `hotline ivr check` does).
2. Test call: a walk to a queue through `hotline.ivr_trial.try_menu` (the report, masking).
   Anchor: `run_menu` over the same scripted channel without the report.

Rounds alternate subject and anchor; min and median per round are printed.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from acd.clock import VirtualClock
from hotline.ivr_trial import TrialCall, parse_time, try_menu
from hotline.web.ivr_editor.service import _inspect
from ivr.checker import check_menu
from ivr.interpreter import run_menu
from ivr.registry import MenuRegistry
from ivr.scripted import Press, Say, ScriptedChannel

MENU_FILE = Path(__file__).resolve().parents[1] / "config" / "menus" / "airline.yaml"
QUEUES = ["booking", "refund", "baggage", "general", "emergency"]
ROUNDS, PER_ROUND = 7, 10


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(PER_ROUND):
        fn()
    return (time.perf_counter() - started) / PER_ROUND


def _report(label: str, subject: list[float], anchor: list[float], anchor_label: str) -> None:
    print(f"   {label}: min {min(subject) * 1e3:6.2f} ms, median {statistics.median(subject) * 1e3:6.2f} ms; "
          f"{anchor_label}: min {min(anchor) * 1e3:6.2f} ms, median {statistics.median(anchor) * 1e3:6.2f} ms")


def main() -> int:
    text = MENU_FILE.read_text(encoding="utf-8")
    registry = MenuRegistry(queues=QUEUES)
    menu = check_menu(text, queues=QUEUES).menu
    assert menu is not None
    at = parse_time("2026-12-01T10:00", "Asia/Seoul")
    actions = (Press("2"), Say("baggage"))

    def trial() -> None:
        report = asyncio.run(try_menu(menu, TrialCall(actions=actions, at=at)))
        assert report["transfer"]["queue"] == "baggage"

    def bare() -> None:
        channel = ScriptedChannel(list(actions), caller="+821012345678")
        outcome = asyncio.run(run_menu(menu, channel, clock=VirtualClock(at)))
        assert outcome.transfer is not None and outcome.transfer.queue == "baggage"

    drafts, checks, trials, walks = [], [], [], []
    _inspect(registry, text), trial(), bare()  # warm-up
    for _ in range(ROUNDS):
        drafts.append(_timed(lambda: _inspect(registry, text)))
        checks.append(_timed(lambda: check_menu(text, "<draft>", queues=QUEUES)))
        trials.append(_timed(trial))
        walks.append(_timed(bare))
    print(f"1. a change of the draft ({len(menu.nodes)} nodes, {len(text.encode())} bytes), per change")
    _report("check + lines + graph + SVG", drafts, checks, "anchor checker alone")
    print("2. a test call to a queue (7 nodes), per call")
    _report("try_menu (report)", trials, walks, "anchor run_menu alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
