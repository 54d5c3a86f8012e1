"""Pure parts: SLA rules, the case workflow, the `store:` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from casestore import (
    IllegalCaseTransition,
    SlaPolicy,
    SlaRule,
    StoreConfigError,
    parse_store_settings,
)
from casestore.settings import store_settings
from casestore.sla import parse_sla_rules
from casestore.workflow import check_case_transition
from hotline.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("category", "priority", "minutes"),
    [
        ("complaint", "urgent", 15), ("complaint", "major", 60), ("complaint", "general", 1440),
        ("consultation", "common", 120), ("consultation", "complex", 240),
        ("consultation", "major", 1440), ("emergency", "common", 15), ("refund", "major", 60),
        ("baggage", "common", 1440),
    ],
)
def test_default_sla_rules(category: str, priority: str, minutes: float) -> None:
    assert SlaPolicy().minutes(category, priority) == minutes
    assert SlaPolicy().due_at(category, priority, 1000.0) == 1000.0 + minutes * 60


def test_configured_rules_come_first_and_are_validated() -> None:
    rules = parse_sla_rules([{"category": "refund", "priority": "*", "minutes": 30}])
    policy = SlaPolicy(rules)
    assert policy.minutes("refund", "common") == 30
    assert policy.minutes("complaint", "urgent") == 15  # defaults still apply
    for bad in ([{"category": "x", "minutes": -1}], [{"category": "x"}], ["15"], [{"minutes": 5, "when": 1}]):
        with pytest.raises(ValueError):
            parse_sla_rules(bad)
    with pytest.raises(ValueError):
        SlaPolicy([SlaRule("complaint", "urgent", 15)]).minutes("refund", "common")


@pytest.mark.parametrize(
    ("current", "wanted", "ok"),
    [
        ("open", "in_progress", True), ("open", "resolved", True), ("open", "closed", False),
        ("in_progress", "resolved", True), ("in_progress", "closed", False),
        ("resolved", "closed", True), ("resolved", "open", True), ("resolved", "in_progress", False),
        ("closed", "open", True), ("closed", "resolved", False), ("closed", "in_progress", False),
        ("open", "deleted", False), ("weird", "open", False),
    ],
)
def test_case_workflow(current: str, wanted: str, ok: bool) -> None:
    if ok:
        assert check_case_transition("HL-1", current, wanted).value == wanted
    else:
        with pytest.raises(IllegalCaseTransition):
            check_case_transition("HL-1", current, wanted)


def test_store_section_of_the_sample_config(tmp_path: Path) -> None:
    settings = store_settings(load_config(ROOT / "config" / "hotline.yaml"))
    assert settings.retention_years == 3
    assert settings.data_dir == (ROOT / "config" / "data")
    assert settings.url == f"sqlite+aiosqlite:///{ROOT / 'config' / 'data' / 'hotline.db'}"
    assert settings.case_defaults("emergency").priority == "urgent"
    assert settings.case_defaults("unknown-queue").category == "consultation"
    override = store_settings(load_config(ROOT / "config" / "hotline.yaml"), "postgresql+asyncpg://h/db")
    assert override.url == "postgresql+asyncpg://h/db"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"colour": "red"}, "unknown keys"),
        ({"retention_years": 0}, "positive"),
        ({"retention_years": "soon"}, "store"),
        ({"cases": {"booking": {"priority": "common"}}}, "needs a category"),
        ({"cases": {"booking": {"category": "x", "priority": "asap"}}}, "is not one of"),
        ({"sla": [{"minutes": "many"}]}, "minutes"),
    ],
)
def test_bad_store_sections_are_refused_clearly(raw: dict[str, object], message: str) -> None:
    with pytest.raises(StoreConfigError, match=message):
        parse_store_settings(raw)
