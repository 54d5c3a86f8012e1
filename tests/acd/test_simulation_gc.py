"""A simulation run leaves (next to) no reference cycles behind, which is what lets
`Simulation.run` pause the cyclic garbage collector (acd/simulation/runner.py)."""

from __future__ import annotations

import gc

from acd.queue import QueueConfig
from acd.simulation import AgentGroup, Distribution, Simulation, SimulationConfig, Stream


def _config() -> SimulationConfig:
    """Waiting, patience, ring-outs (ring delay beyond the ring timeout now and then),
    escalation and max wait with overflow: every kind of timer the run arms and cancels."""
    return SimulationConfig(
        queues=(
            QueueConfig("sales", skills={"sales": 1}, wrap_up=5.0, ring_timeout=6.0, max_wait=120.0,
                        overflow="general"),
            QueueConfig("general", skills={"sales": 1}, wrap_up=None),
        ),
        streams=(
            Stream("sales", calls_per_hour=400, handle=Distribution("exponential", 120.0),
                   patience=Distribution("exponential", 90.0)),
        ),
        groups=(AgentGroup("agents", 12, skills={"sales": 5}),),
        ring_delay=Distribution("exponential", 2.0),
        duration=4 * 3600,
        warmup=600,
        seed=3,
    )


def test_a_run_leaves_no_cyclic_garbage() -> None:
    sim = Simulation(_config())
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        report = sim.run()
        cyclic = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    assert report.arrivals > 1000
    assert report.overall.abandoned > 0  # patience and max wait did fire
    assert cyclic < 200, f"{cyclic} objects in reference cycles after {report.arrivals} calls"


def test_the_collector_is_back_on_after_a_run() -> None:
    assert gc.isenabled()
    Simulation(_config()).run()
    assert gc.isenabled()
