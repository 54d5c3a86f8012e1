"""Fuzzing the menu checker: any text, any menu-shaped data gives a CheckResult (issues with
lines), never an exception."""

from __future__ import annotations

import os
import string
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.checker import check_menu
from ivr.schema import MENU_SCHEMA, NODE_KINDS

EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _keys(schema: Any, out: set[str]) -> set[str]:
    if isinstance(schema, dict):
        out.update(k for k in schema.get("properties", {}) if isinstance(k, str))
        for value in schema.values():
            _keys(value, out)
    elif isinstance(schema, list):
        for value in schema:
            _keys(value, out)
    return out


KEYS = sorted(_keys(MENU_SCHEMA, set()))
NAMES = st.sampled_from(["main", "ask", "done", "q", "en", "ko", "1", "general"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 40), st.floats(allow_nan=True), NAMES,
    st.sampled_from(NODE_KINDS), st.sampled_from(["(1+)+2", "\\d{4}", "08:00-20:00", "mon-fri", "Asia/Seoul", "luhn"]),
    st.text(max_size=6),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), NAMES), inner, max_size=4),
    ),
    max_leaves=20,
)
node = st.fixed_dictionaries(
    {"kind": st.sampled_from(NODE_KINDS)},
    optional={k: values for k in KEYS if k != "kind"} | {"next": NAMES, "prompt": st.just({"en": "Hi"})},
)
menus = st.fixed_dictionaries(
    {
        "menu": NAMES, "languages": st.just(["en"]), "start": NAMES,
        "nodes": st.dictionaries(NAMES, node, min_size=1, max_size=4),
    },
    optional={"settings": values, "entries": values, "default_language": values},
)


@FUZZ
@given(menus)
def test_menu_shaped_data_gives_issues_not_exceptions(data: dict[str, Any]) -> None:
    result = check_menu(yaml.safe_dump(data), "fuzz.yaml", queues=["general"])
    assert result.ok or all(issue.message for issue in result.errors)


@FUZZ
@given(st.text(string.ascii_letters[:5] + string.digits[:3] + " \n:-[]{},&*!|>'\"#?%@`.\t\x00\ufeff", max_size=300))
def test_any_text_gives_issues_not_exceptions(text: str) -> None:
    result = check_menu(text, "fuzz.yaml")
    assert result.ok or result.errors
