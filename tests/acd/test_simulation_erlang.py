"""The simulator against queueing theory: an M/M/N run agrees with Erlang C.

The tolerance comes from the run itself: the measured window is cut into 20 batches of about
5,000 calls; the spread of the batch means gives the standard error of the overall figure
(batch means, which accounts for the correlation between successive calls' waits). The
theoretical value must lie within 4 standard errors (about 99.9 % for 19 degrees of freedom),
and the standard errors must be small (a few per cent), so a wrong simulator cannot pass by
being noisy.
"""

from __future__ import annotations

import math
import statistics

import pytest

from acd.erlang import erlang
from acd.events import CallArrived, CallAssigned, CallQueued, Event
from acd.queue import QueueConfig
from acd.simulation import AgentGroup, Distribution, Simulation, SimulationConfig, Stream

AGENTS = 10
AHT = 120.0
LOAD = 8.0  # erlangs: occupancy 80 %
RATE = LOAD / AHT  # calls per second
SL_SECONDS = 20.0
BATCHES = 20
CALLS = 100_000


def mmn_config(seed: int) -> SimulationConfig:
    return SimulationConfig(
        queues=(QueueConfig("q", skills={"s": 1}, sl_seconds=SL_SECONDS, wrap_up=0.0),),
        streams=(Stream("q", calls_per_hour=RATE * 3600, handle=Distribution("exponential", AHT)),),
        groups=(AgentGroup("g", AGENTS, skills={"s": 3}),),
        duration=CALLS / RATE,
        warmup=50 * AHT,
        seed=seed,
    )


class Recorder:
    """Follows the events to measure each call independently of the simulator's report."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.queued: set[str] = set()
        self.wait: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallArrived):
            self.arrived[event.call_id] = event.at
        elif isinstance(event, CallQueued):
            self.queued.add(event.call_id)
        elif isinstance(event, CallAssigned):
            self.wait[event.call_id] = event.wait


def batch_estimate(values: list[list[float]]) -> tuple[float, float]:
    means = [statistics.fmean(batch) for batch in values]
    return statistics.fmean(means), statistics.stdev(means) / math.sqrt(len(means))


@pytest.mark.parametrize("seed", [11])
def test_mmn_simulation_agrees_with_erlang_c(seed: int) -> None:
    config = mmn_config(seed)
    recorder = Recorder()
    simulation = Simulation(config, subscribers=[recorder])
    report = simulation.run()
    theory = erlang(RATE, AHT, AGENTS, SL_SECONDS)
    assert report.overall.erlang == theory  # the report puts Erlang C beside this run

    start, end = simulation.start, simulation.end
    counted = sorted((t, cid) for cid, t in recorder.arrived.items() if start <= t < end)
    assert len(counted) == report.overall.offered > 0.95 * CALLS
    assert all(cid in recorder.wait for _, cid in counted)  # no abandonment: all answered

    width = (end - start) / BATCHES
    waited: list[list[float]] = [[] for _ in range(BATCHES)]
    waits: list[list[float]] = [[] for _ in range(BATCHES)]
    within: list[list[float]] = [[] for _ in range(BATCHES)]
    for t, cid in counted:
        b = min(BATCHES - 1, int((t - start) / width))
        waited[b].append(1.0 if cid in recorder.queued else 0.0)
        waits[b].append(recorder.wait[cid])
        within[b].append(1.0 if recorder.wait[cid] <= SL_SECONDS else 0.0)

    # The report measures the same thing the events show.
    flat = [w for batch in waits for w in batch]
    assert report.overall.asa == pytest.approx(statistics.fmean(flat), rel=1e-9)
    assert report.overall.p_wait == pytest.approx(len(recorder.queued & {c for _, c in counted}) / len(counted))
    assert report.overall.service_level == pytest.approx(
        sum(w <= SL_SECONDS for w in flat) / len(flat)
    )

    reported_se = report.overall.standard_errors
    assert reported_se is not None
    for name, key, batches, expected, max_rel_se in (
        ("P(wait)", "p_wait", waited, theory.p_wait, 0.05),
        ("ASA", "asa", waits, theory.asa, 0.08),
        ("service level", "service_level", within, theory.service_level, 0.03),
    ):
        mean, se = batch_estimate(batches)
        assert reported_se[key] == pytest.approx(se, rel=1e-6)  # the report's error bars
        assert se / expected < max_rel_se, f"{name}: run too short to judge (se {se:.4g})"
        assert abs(mean - expected) < 4 * se, (
            f"{name}: measured {mean:.4g} vs Erlang C {expected:.4g} (se {se:.3g})"
        )
    assert report.overall.occupancy == pytest.approx(theory.occupancy, rel=0.03)


def test_erlang_c_is_only_shown_for_an_mmn_queue() -> None:
    base = mmn_config(1)
    assert Simulation(base.with_overrides(duration=60)).run().overall.erlang is not None
    variants = [
        SimulationConfig(
            queues=base.queues,
            streams=(Stream("q", 100, handle=Distribution("lognormal", AHT, 60.0)),),
            groups=base.groups, duration=60,
        ),
        SimulationConfig(
            queues=base.queues,
            streams=(Stream("q", 100, handle=Distribution("exponential", AHT),
                            patience=Distribution("exponential", 60.0)),),
            groups=base.groups, duration=60,
        ),
        SimulationConfig(
            queues=(QueueConfig("q", skills={"s": 1}, wrap_up=10.0),),
            streams=base.streams, groups=base.groups, duration=60,
        ),
        SimulationConfig(
            queues=base.queues, streams=base.streams,
            groups=(AgentGroup("g", AGENTS, skills={"s": 3}), AgentGroup("h", 2, skills={"s": 3})),
            duration=60,
        ),
        SimulationConfig(
            queues=base.queues, streams=base.streams, groups=base.groups, duration=60,
            ring_delay=Distribution("fixed", 3.0),
        ),
    ]
    for config in variants:
        assert Simulation(config).run().overall.erlang is None
