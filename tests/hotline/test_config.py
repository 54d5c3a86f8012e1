from __future__ import annotations

from pathlib import Path

import pytest

from acd.queue import RoutingPolicy
from hotline.config import ConfigError, load_config, parse_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"


def test_sample_config_loads() -> None:
    config = load_config(CONFIG)
    names = {q.name for q in config.queues}
    assert {"booking", "refund", "baggage", "complaint", "emergency", "general"} <= names
    booking = next(q for q in config.queues if q.name == "booking")
    assert booking.policy is RoutingPolicy.LONGEST_IDLE
    assert [step.after for step in booking.escalation] == [60, 120, 300]
    assert booking.escalation[2].offer_callback


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"queues": [{"name": "a", "policy": "random"}]}, "policy"),
        ({"queues": [{"name": "a", "overflow": "b"}]}, "unknown queue 'b'"),
        ({"queues": [{"name": "a"}, {"name": "a"}]}, "defined twice"),
        ({"queues": [{"name": "a", "skills": {"x": 11}}]}, "1-10"),
        ({"queues": [{"name": "a", "colour": "red"}]}, "colour: unknown key"),
        ({"agents": [{"name": "no id"}]}, "missing required key 'id'"),
        ({"queues": [{"name": "a", "escalation": [{"after": 60}, {"after": 30}]}]}, "increasing"),
    ],
)
def test_bad_config_names_the_problem(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)


def test_broken_yaml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("queues: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml:2: invalid YAML"):
        load_config(path)


def test_queue_policies_and_queue_log_are_parsed(tmp_path: Path) -> None:
    """Aging, ring-no-answer policy, announcements, callback hours and acd.queue_log."""
    from acd.aging import Aging
    from acd.ring_policy import RingPolicy

    path = tmp_path / "hotline.yaml"
    path.write_text(
        "acd: {queue_log: logs/queue_log}\n"
        "queues:\n"
        "  - name: q\n"
        "    aging: {rate: 2, cap: 4}\n"
        "    ring_no_answer: {pause_after: 3, reoffer_same_agent: false, reoffer_delay: 12}\n"
        "    announce: {interval: 45, margin: 90, min_samples: 5, window: 50}\n"
        "    callbacks: {hours: {mon: '09:00-18:00', sat: ['09:00-12:00']}, timezone: Asia/Seoul}\n"
        "agents: [{id: a1}]\n"
    )
    config = load_config(path)
    queue = config.queues[0]
    assert queue.aging == Aging(30.0, 4)
    assert queue.ring_policy == RingPolicy(3, False, 12.0)
    assert queue.announce is not None and (queue.announce.interval, queue.announce.margin) == (45.0, 90.0)
    assert queue.callbacks is not None and queue.callbacks.hours.windows["sat"] == ((540, 720),)
    assert config.acd.queue_log == "logs/queue_log"


@pytest.mark.parametrize(("text", "message"), [
    ("aging: {rate: 2}", "missing required key 'cap'"),
    ("ring_no_answer: {pause_after: 0}", "pause_after"),
    ("announce: {margin: -1}", "margin"),
    ("callbacks: {hours: {monday: '09:00-18:00'}}", "monday"),
    ("callbacks: {timezone: Mars/Olympus}", "unknown time zone"),
])
def test_bad_queue_policies_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(f"queues:\n  - name: q\n    {text}\nagents: [{{id: a1}}]\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path)
