"""The simulator: reproducible, follows its config (patience, shifts, ring delay, wrap-up),
reports consistent figures, refuses bad configs with a clear message."""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

import pytest
import yaml

from acd.agent import AgentState
from acd.events import AgentStateChanged, CallRingNoAnswer, Event
from acd.queue import QueueConfig
from acd.simulation import (
    AgentGroup,
    Distribution,
    Shift,
    Simulation,
    SimulationConfig,
    Stream,
    parse_simulation,
)
from hotline.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
AIRLINE = ROOT / "config" / "simulation" / "airline.yaml"
MMN = ROOT / "config" / "simulation" / "mmn.yaml"


def airline(**overrides: float) -> SimulationConfig:
    config = parse_simulation(yaml.safe_load(AIRLINE.read_text()), str(AIRLINE))
    return config.with_overrides(duration=overrides.get("duration", 3 * 3600))


def events_of(config: SimulationConfig) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    Simulation(config, subscribers=[lambda e: seen.append(e.to_dict())]).run()
    return seen


def test_same_seed_same_run_other_seed_other_run() -> None:
    config = airline(duration=1800)
    first, again = events_of(config), events_of(config)
    assert first == again
    assert len(first) > 1000
    assert events_of(config.with_overrides(seed=config.seed + 1)) != first


def test_sample_configs_parse_and_run() -> None:
    report = Simulation(airline()).run()
    assert {q.name for q in report.queues} == {
        "emergency", "booking", "refund", "baggage", "complaint", "general",
    }
    for q in (*report.queues, report.overall):
        assert q.offered == q.answered + q.abandoned + q.unfinished
        for figure in (q.service_level, q.p_wait, q.abandon_rate, q.occupancy):
            assert figure is None or 0.0 <= figure <= 1.0
    assert report.overall.offered == sum(q.offered for q in report.queues)
    assert report.overall.abandoned > 0  # callers in the sample have limited patience
    assert report.overall.erlang is None
    mmn = parse_simulation(yaml.safe_load(MMN.read_text()), str(MMN))
    assert mmn.duration is None and mmn.duration_seconds >= 500_000 / (600 / 3600)


def single_queue(**kwargs: object) -> SimulationConfig:
    fields: dict[str, object] = {
        "queues": (QueueConfig("q", wrap_up=0.0, ring_timeout=None),),
        "streams": (Stream("q", 360.0, handle=Distribution("exponential", 60.0)),),
        "groups": (AgentGroup("g", 5),),
        "duration": 20_000.0,
        "warmup": 600.0,
        "seed": 3,
    }
    fields.update(kwargs)
    return SimulationConfig(**fields)  # type: ignore[arg-type]


def test_patience_makes_callers_hang_up() -> None:
    # 6 erlangs offered to 5 agents: without abandonment the queue would grow without bound
    patient = single_queue(streams=(Stream("q", 360.0, handle=Distribution("exponential", 60.0),
                                           patience=Distribution("exponential", 30.0)),))
    report = Simulation(patient).run()
    q = report.overall
    assert q.abandoned > 0.1 * q.offered
    assert q.offered == q.answered + q.abandoned
    assert q.abandon_rate == pytest.approx(q.abandoned / q.offered)


def test_occupancy_counts_wrap_up_and_fixed_handle_times() -> None:
    config = single_queue(
        queues=(QueueConfig("q", wrap_up=20.0, ring_timeout=None),),
        streams=(Stream("q", 120.0, handle=Distribution("fixed", 40.0)),),
        groups=(AgentGroup("g", 4),),
    )
    report = Simulation(config).run()
    # 120 calls/h x (40 s talk + 20 s wrap-up) = 2 erlangs of work for 4 agents
    assert report.overall.occupancy == pytest.approx(0.5, abs=0.03)
    assert report.groups[0].staffed_hours == pytest.approx(4 * 20_000 / 3600)


def test_lognormal_handle_times_have_the_configured_mean_and_sd() -> None:
    draw = Distribution("lognormal", 240.0, 120.0).sampler(random.Random(5))
    values = [draw() for _ in range(40_000)]
    assert statistics.fmean(values) == pytest.approx(240.0, rel=0.02)
    assert statistics.stdev(values) == pytest.approx(120.0, rel=0.05)
    assert Distribution("fixed", 7.0).sampler(random.Random(1))() == 7.0


def test_shifts_log_agents_in_and_out() -> None:
    config = single_queue(
        groups=(AgentGroup("early", 2, shifts=(Shift(0.0, 5000.0),)),
                AgentGroup("late", 3, shifts=(Shift(4000.0, None),))),
        warmup=0.0,
    )
    changes: list[AgentStateChanged] = []

    def record(event: Event) -> None:
        if isinstance(event, AgentStateChanged):
            changes.append(event)

    simulation = Simulation(config, subscribers=[record])
    report = simulation.run()
    logins = {c.agent_id: c.at for c in changes if c.old == "logged_out"}
    logouts = {c.agent_id: c.at for c in changes if c.new == "logged_out"}
    assert logins == {"early-1": 0.0, "early-2": 0.0, "late-1": 4000.0, "late-2": 4000.0, "late-3": 4000.0}
    assert set(logouts) == {"early-1", "early-2"}
    # an agent busy at the end of the shift finishes the call first, and takes no new one
    assert all(5000.0 <= t < 5000.0 + 3600 for t in logouts.values())
    for agent_id, t in logouts.items():
        assert not [c for c in changes if c.agent_id == agent_id and c.at > t]
    assert simulation.acd.agents["early-1"].state is AgentState.LOGGED_OUT
    early, late = report.groups
    assert early.staffed_hours == pytest.approx(2 * 5000 / 3600, rel=0.05)
    assert late.staffed_hours == pytest.approx(3 * 16_000 / 3600, rel=0.01)


def test_ring_delay_longer_than_the_timeout_rings_out_and_agents_come_back() -> None:
    config = single_queue(
        queues=(QueueConfig("q", wrap_up=0.0, ring_timeout=10.0),),
        ring_delay=Distribution("exponential", 5.0),  # P(no answer within 10 s) = e^-2
        unpause_after=30.0,
        duration=10_000.0,
    )
    rang_out: list[CallRingNoAnswer] = []
    simulation = Simulation(
        config, subscribers=[lambda e: rang_out.append(e) if isinstance(e, CallRingNoAnswer) else None]
    )
    report = simulation.run()
    assert len(rang_out) > 0.05 * report.arrivals
    assert report.overall.answered == report.overall.offered  # calls go back and get answered
    assert all(a.state is not AgentState.PAUSED for a in simulation.acd.agents.values())


def test_every_call_arrives_once_and_finishes_once_in_the_event_log() -> None:
    events = events_of(airline(duration=3600))
    arrived = [e["call_id"] for e in events if e["kind"] == "call_arrived"]
    finished = [e["call_id"] for e in events if e["kind"] in ("call_ended", "call_abandoned")]
    assert len(arrived) == len(set(arrived))
    assert len(finished) == len(set(finished))
    assert set(finished) <= set(arrived)
    times = [float(e["at"]) for e in events]  # type: ignore[arg-type]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"traffic": []}, "'traffic' must list at least one stream"),
        ({"surprise": 1}, "unknown keys ['surprise']"),
        ({"traffic": [{"queue": "nowhere", "calls_per_hour": 1,
                       "handle": {"dist": "fixed", "mean": 1}}]}, "queue 'nowhere' is not defined"),
        ({"traffic": [{"queue": "q", "calls_per_hour": 1,
                       "handle": {"dist": "gamma", "mean": 1}}]}, "'gamma' is not one of"),
        ({"traffic": [{"queue": "q", "calls_per_hour": 1,
                       "handle": {"dist": "lognormal", "mean": 10}}]}, "needs a positive sd"),
        ({"traffic": [{"queue": "q", "calls_per_hour": -3,
                       "handle": {"dist": "fixed", "mean": 1}}]}, "calls_per_hour: must be a non-negative"),
        ({"agents": [{"group": "g", "count": 2, "shifts": [{"start": 10, "end": 5}]}]},
         "end must be after start"),
        ({"agents": [{"group": "g", "count": 2, "shifts": [{"start": 0, "end": 50}, {"start": 40}]}]},
         "shifts overlap"),
        ({"agents": [{"group": "g", "count": 1, "skills": {"s": 11}}]}, "level must be an integer 1-10"),
        ({"duration": 0}, "duration: must be a positive number"),
    ],
)
def test_bad_config_is_refused_with_the_key_named(change: dict[str, object], message: str) -> None:
    raw: dict[str, object] = {
        "queues": [{"name": "q"}],
        "traffic": [{"queue": "q", "calls_per_hour": 10, "handle": {"dist": "exponential", "mean": 60}}],
        "agents": [{"group": "g", "count": 2}],
    }
    raw.update(change)
    with pytest.raises(ConfigError) as caught:
        parse_simulation(raw, "sim.yaml")
    assert message in str(caught.value)
    assert "sim.yaml" in str(caught.value)


def test_minimal_config_gets_defaults() -> None:
    def minimal(calls_per_hour: int) -> SimulationConfig:
        return parse_simulation({
            "queues": [{"name": "q"}],
            "traffic": [{"queue": "q", "calls_per_hour": calls_per_hour,
                         "handle": {"dist": "exponential", "mean": 6}}],
            "agents": [{"group": "g", "count": 70}],
        })

    busy = minimal(36_000)  # 10 calls/s: 500,000 calls take 50,000 s
    assert busy.duration_seconds == pytest.approx(50_000)
    assert busy.warmup_seconds == pytest.approx(5_000)
    flood = minimal(360_000)  # 100 calls/s: 5,000 s would do, but at least a working day
    assert flood.duration_seconds == pytest.approx(8 * 3600)
    assert busy.seed == 1 and busy.ring_delay is None


def test_report_serialises_to_json() -> None:
    report = Simulation(airline(duration=600)).run()
    data = json.loads(json.dumps(report.to_dict()))
    assert data["overall"]["offered"] == report.overall.offered
    assert [q["name"] for q in data["queues"]] == [q.name for q in report.queues]
