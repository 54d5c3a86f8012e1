"""A live queue edit (acd/live_config.py) with many callers waiting: `configure_queue` takes
every waiting call of the queue out of the routing index and puts it back under the new
requirement. Subject: one edit with N waiting; anchor, in the same run and alternated: N
supervisor priority changes (`set_priority`, one unqueue/requeue each) on the same calls.
Min and median of 7 rounds each."""

from __future__ import annotations

import dataclasses
import statistics
import time

from acd.clock import VirtualClock
from acd.engine import Acd
from acd.live_config import configure_queue
from acd.queue import EscalationStep, QueueConfig

QUEUE = QueueConfig("booking", skills={"booking": 5}, max_wait=3600.0,
                    escalation=(EscalationStep(600.0, min_level=2),))


def _acd(waiting: int) -> Acd:
    acd = Acd(VirtualClock(0.0), [QUEUE])
    for i in range(waiting):
        acd.arrive(f"c{i}", "booking", priority=i % 3, skills={"lang_ko": 1 + i % 5} if i % 2 else None)
    return acd


def _edit(acd: Acd, round_no: int) -> float:
    config = dataclasses.replace(QUEUE, skills={"booking": 4 + round_no % 2})
    started = time.perf_counter()
    configure_queue(acd, config)
    return time.perf_counter() - started


def _anchor(acd: Acd, round_no: int) -> float:
    calls = [c.id for c in acd.waiting_calls("booking")]
    started = time.perf_counter()
    for i, call_id in enumerate(calls):
        acd.set_priority(call_id, (i + round_no) % 4)
    return time.perf_counter() - started


def main() -> int:
    for waiting in (1_000, 10_000):
        acd = _acd(waiting)
        edits, anchors = [], []
        for round_no in range(7):
            edits.append(_edit(acd, round_no))
            anchors.append(_anchor(acd, round_no))
        assert len(acd.waiting_calls("booking")) == waiting
        print(f"{waiting:>6} waiting: configure_queue min {min(edits) * 1e3:7.1f} ms median "
              f"{statistics.median(edits) * 1e3:7.1f} ms | anchor {waiting} x set_priority min "
              f"{min(anchors) * 1e3:7.1f} ms median {statistics.median(anchors) * 1e3:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
