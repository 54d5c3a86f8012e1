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
