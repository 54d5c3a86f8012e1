"""Expected wait on hold (acd/wait_estimate.py): handle times from the live queue, agents
serving it, position; announced only once the queue's estimates proved close enough."""

from __future__ import annotations

import pytest

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.queue import QueueConfig
from acd.simulation import Simulation, parse_simulation
from acd.wait_estimate import Announcements, WaitEstimator, quantile


def make(announce: Announcements, agents: int = 2, wrap: float | None = 10.0) -> tuple[Acd, VirtualClock, WaitEstimator]:
    clock = VirtualClock(0.0)
    acd = Acd(clock, [QueueConfig("q", skills={"ko": 1}, wrap_up=wrap, ring_timeout=None, announce=announce)])
    for i in range(agents):
        acd.add_agent(AgentConfig(f"a{i + 1}", skills={"ko": 5}))
    acd.add_agent(AgentConfig("en-only", skills={"en": 5}))
    return acd, clock, WaitEstimator(acd, {"q": announce})


def serve(acd: Acd, clock: VirtualClock, call_id: str, talk: float) -> None:
    acd.answer(call_id)
    clock.advance(talk)
    acd.end(call_id)


def test_estimate_is_position_times_handle_time_over_agents_serving() -> None:
    acd, clock, est = make(Announcements(default_handle=120.0))
    for agent_id in ("a1", "a2", "en-only"):
        acd.login(agent_id)
    acd.arrive("c1", "q")
    acd.arrive("c2", "q")
    acd.arrive("c3", "q")  # waits: position 1
    acd.arrive("c4", "q")  # position 2
    assert est.serving("c3") == 2  # en-only is not eligible
    assert est.estimate("c4") == pytest.approx(2 * 120.0 / 2)  # no call ended yet: the default
    serve(acd, clock, "c1", 50.0)  # talk 50 + wrap-up 10: handle 60; c3 goes to a1 after wrap-up
    clock.advance(10.0)
    assert est.handle_time("q") == pytest.approx(60.0)
    assert est.estimate("c4") == pytest.approx(1 * 60.0 / 2)
    acd.answer("c3")
    assert est.estimate("c1") is None  # not waiting


def test_no_estimate_when_nobody_serves_the_queue_and_paused_agents_do_not_count() -> None:
    acd, _, est = make(Announcements())
    acd.arrive("c1", "q")
    assert est.estimate("c1") is None
    acd.login("a1")  # takes c1
    acd.arrive("c2", "q")
    acd.login("a2")  # takes c2
    acd.arrive("c3", "q")
    assert est.serving("c3") == 2
    acd.answer("c2")
    acd.end("c2")
    acd.pause("a2")  # after wrap-up... paused straight from wrap-up
    assert est.serving("c3") == 1


def test_the_wait_is_announced_only_after_enough_close_estimates() -> None:
    announce = Announcements(margin=20.0, min_samples=3, window=3, default_handle=60.0, interval=30.0)
    acd, clock, est = make(announce, agents=1, wrap=0.0)
    acd.login("a1")
    acd.arrive("busy", "q")
    acd.answer("busy")
    n = 0
    told = []
    for _ in range(3):  # each caller is told 60 s and really waits 60 s
        n += 1
        acd.arrive(f"w{n}", "q")
        told.append(est.announce(f"w{n}"))
        clock.advance(60.0)
        current = next(c for c in acd.calls.values() if c.state.value == "on_call")
        acd.end(current.id)
        acd.answer(f"w{n}")
    assert [t.position for t in told if t] == [1, 1, 1]
    assert all(t is not None and t.expected_wait is None for t in told)  # not proven yet
    assert est.errors("q") == [0.0, 0.0, 0.0] and est.reliable("q")
    acd.arrive("next", "q")
    heard = est.announce("next")
    assert heard is not None and heard.expected_wait == pytest.approx(60.0) and heard.minutes() == 1
    # three callers wait 3 minutes longer than told: position only again
    for _ in range(3):
        n += 1
        call_id = "next" if n == 4 else f"w{n}"
        if n > 4:
            acd.arrive(call_id, "q")
            est.announce(call_id)
        clock.advance(240.0)
        current = next(c for c in acd.calls.values() if c.state.value == "on_call")
        acd.end(current.id)
        acd.answer(call_id)
    assert not est.reliable("q")
    acd.arrive("last", "q")
    heard = est.announce("last")
    assert heard is not None and heard.position == 1 and heard.expected_wait is None


def test_announcements_come_at_the_interval_and_again_after_a_ring_out() -> None:
    acd, clock, est = make(Announcements(interval=45.0), agents=1)
    acd.arrive("c1", "q")
    assert est.due("c1", clock.now())
    est.announce("c1")
    clock.advance(44.0)
    assert not est.due("c1", clock.now())
    clock.advance(1.0)
    assert est.due("c1", clock.now())
    est.announce("c1")
    acd.login("a1")
    acd.ring_no_answer("c1")
    assert est.due("c1", clock.now())  # back on hold: told again at once
    acd.unpause("a1")
    assert not est.due("c1", clock.now())  # ringing again: nothing to announce


def test_quantile_is_nearest_rank() -> None:
    assert quantile([5.0, 1.0, 3.0, 2.0, 4.0], 0.8) == 4.0
    assert quantile([1.0], 0.5) == 1.0


SIM = """
name: estimates
seed: 7
duration: 14400
warmup: 1800
queues:
  - name: support
    wrap_up: 0
    announce: {{interval: 60, margin: {margin}, min_samples: 20}}
traffic:
  - {{queue: support, calls_per_hour: 100, handle: {{dist: exponential, mean: 240}}}}
agents:
  - {{group: agent, count: 8}}
"""


def test_the_simulator_reports_the_band_and_judges_the_queue_by_its_margin() -> None:
    import yaml

    wide = Simulation(parse_simulation(yaml.safe_load(SIM.format(margin=3000)))).run()
    narrow = Simulation(parse_simulation(yaml.safe_load(SIM.format(margin=1)))).run()
    (band,) = wide.estimates
    assert band.queue == "support" and band.samples > 100
    assert band.p50_abs_error <= band.p80_abs_error <= band.p95_abs_error
    assert band.announces_wait and band.within_margin > 0.99
    (tight,) = narrow.estimates
    assert tight.samples == band.samples and not tight.announces_wait  # same run, stricter margin
    assert tight.within_margin < 0.2
    assert wide.to_dict()["estimates"][0]["samples"] == band.samples
