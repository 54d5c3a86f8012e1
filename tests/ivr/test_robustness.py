"""Bad menus and odd callers: the checker and the interpreter never crash."""

from __future__ import annotations

import ast
import asyncio
import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.clock import VirtualClock
from ivr.channel import CallerHangup, Input
from ivr.checker import check_menu
from ivr.emergency import EmergencyState
from ivr.events import OutcomeKind
from ivr.interpreter import run_menu
from ivr.speech import Recognition
from tests.ivr.fakes import AIRLINE, ROOT, FakeChannel, airline

SAMPLE = yaml.safe_load(AIRLINE.read_text(encoding="utf-8"))
MENU = airline()
FORBIDDEN = {
    "aiohttp",
    "sqlalchemy",
    "vosk",
    "twilio",
    "panoramisk",
    "redis",
    "asyncpg",
    "speech",
    "asterisk",
    "twilio_gateway",
    "casestore",
    "hotline",
    "socket",
    "subprocess",
}


def test_the_core_imports_no_adapter_library() -> None:
    for path in sorted((ROOT / "ivr").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(SAMPLE)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 30),
    st.text(max_size=8),
    st.sampled_from(["main", "agent", "nowhere", "08:00-20:00", "25:00-26:00", "mon-fri", "ko"]),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.booleans(), VALUES), min_size=1, max_size=3))
def test_mutated_menus_give_issues_not_exceptions(
    edits: list[tuple[tuple[Any, ...], bool, Any]],
) -> None:
    data = copy.deepcopy(SAMPLE)
    for path, delete, value in edits:
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    result = check_menu(yaml.safe_dump(data, allow_unicode=True), "mutated.yaml")
    assert result.ok == (result.menu is not None)
    for issue in result.errors:
        assert issue.message


ANSWERS = st.one_of(
    st.sampled_from("0123456789*#").map(Input.dtmf),
    st.text("0123456789", min_size=1, max_size=14).map(Input.dtmf),
    st.sampled_from(
        ["예약", "환불", "상담원", "네", "아니요", "booking", "", "상담원 예약", "?"]
    ).flatmap(lambda w: st.floats(0, 1).map(lambda c: Input.speech(Recognition(w, c)))),
    st.just(Input.none()),
    st.just(CallerHangup("gone")),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(ANSWERS, max_size=25),
    st.floats(1.7e9, 1.9e9),
    st.booleans(),
    st.sampled_from([None, "survey"]),
)
def test_any_caller_ends_with_an_outcome_within_the_step_bound(
    answers: list[Input | Exception], when: float, emergency_on: bool, start: str | None
) -> None:
    menu = MENU
    emergency = EmergencyState()
    if emergency_on:
        emergency.activate(when, "sup")
    ch = FakeChannel.answering(answers)
    out = asyncio.run(
        run_menu(menu, ch, clock=VirtualClock(when), emergency=emergency, start=start)
    )
    assert out.kind in OutcomeKind
    assert out.steps <= menu.settings.max_steps
    assert (out.kind in (OutcomeKind.TRANSFER, OutcomeKind.CALLBACK)) == bool(ch.transfers)
    if out.kind is OutcomeKind.TRANSFER:
        assert out.transfer is not None and out.transfer.queue in {
            "booking",
            "refund",
            "baggage",
            "general",
            "emergency",
        }
