from __future__ import annotations

import pytest

from ivr.checker import check_menu
from ivr.pattern_safety import pattern_problem


@pytest.mark.parametrize("pattern", ["(1+)+2", "(\\d*)*9", "(1|11)*2", "(\\d+){5,}#", "((\\d)+)+"])
def test_catastrophic_patterns_are_refused(pattern: str) -> None:
    assert pattern_problem(pattern) is not None


@pytest.mark.parametrize(
    "pattern", ["\\d{6}", "[0-9]{4}(\\d{4})?", "(\\d{3}-?){3}", "(\\d{2}){8}", "(?>1+)+2", "1\\d*"]
)
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_back_references_and_invalid_patterns_are_refused() -> None:
    assert pattern_problem("(\\d)\\1") == "back-references are not allowed"
    assert (pattern_problem("((") or "").startswith("invalid pattern")
    assert "longer than" in (pattern_problem("1" * 500) or "")


MENU = """
menu: m
languages: [en]
start: ask
nodes:
  ask:
    kind: collect
    prompt: {en: Your number}
    store: number
    pattern: "(1+)+2"
    next: done
    on_failure: done
  done: {kind: hangup}
"""


def test_menu_with_a_catastrophic_pattern_is_refused_with_its_line() -> None:
    result = check_menu(MENU, "m.yaml")
    issue = next(i for i in result.errors if i.path.endswith("pattern"))
    assert "pattern refused" in issue.message
    assert issue.line == 10
