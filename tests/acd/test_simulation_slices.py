"""`Simulation.run_until` / `finish`: a run cut into slices is the run `run()` gives."""

from __future__ import annotations

from pathlib import Path

import yaml

from acd.events import Event
from acd.simulation import Simulation, SimulationConfig, parse_simulation

AIRLINE = Path(__file__).resolve().parents[2] / "config" / "simulation" / "airline.yaml"


def airline() -> SimulationConfig:
    config = parse_simulation(yaml.safe_load(AIRLINE.read_text()), str(AIRLINE))
    return config.with_overrides(duration=3600, seed=11)


def recorded(events: list[Event]) -> Simulation:
    return Simulation(airline(), subscribers=[events.append])


def test_slices_give_the_same_events_and_report_as_run() -> None:
    whole: list[Event] = []
    expected = recorded(whole).run()
    sliced: list[Event] = []
    simulation = recorded(sliced)
    until, slices = 0.0, 0
    while simulation.run_until(until):
        assert all(e.at <= until for e in sliced)  # nothing past the slice's end
        assert simulation.clock.now() <= until
        due = simulation.next_event_at()
        assert due is not None and due > until
        until += 97.0
        slices += 1
    assert simulation.next_event_at() is None
    report = simulation.finish()
    assert slices > 40
    assert [e.to_dict() for e in sliced] == [e.to_dict() for e in whole]
    assert report.to_dict() == expected.to_dict()
    assert simulation.progress() == 1.0


def test_stop_ends_a_slice_after_the_event_that_made_it_true() -> None:
    seen: list[Event] = []
    simulation = recorded(seen)
    fired = []
    for limit in (10, 50, 400):
        more = simulation.run_until(float("inf"), lambda limit=limit: len(seen) >= limit)  # type: ignore[misc]
        fired.append(len(seen))
        assert more
    # each slice stops at the first step that reaches the limit (a step emits a few events)
    for limit, count in zip((10, 50, 400), fired, strict=True):
        assert limit <= count < limit + 10
    before = simulation.clock.now()
    report = simulation.finish()  # the rest of the run, then the report
    assert simulation.clock.now() > before
    assert report.arrivals > 0 and len(seen) > 400


def test_finish_alone_is_run() -> None:
    a: list[Event] = []
    b: list[Event] = []
    assert recorded(a).finish().to_dict() == recorded(b).run().to_dict()
    assert len(a) == len(b) > 0
