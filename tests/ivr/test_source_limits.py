"""Untrusted YAML: size, depth and alias expansion bounded, recursive aliases refused."""

from __future__ import annotations

import pytest

from ivr.checker import check_menu
from ivr.source import SourceError, YamlLimits, load_source


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_it_expands() -> None:
    text = _laughs(9)  # 9**9 = 387 million strings once expanded, under 1 KB of text
    assert len(text) < 1024
    with pytest.raises(SourceError, match="too many values") as info:
        load_source(text)
    assert info.value.line is not None


def test_aliases_within_the_limit_are_expanded() -> None:
    src = load_source("base: &b {x: 1}\ncopy: *b\n")
    assert src.data == {"base": {"x": 1}, "copy": {"x": 1}}


@pytest.mark.parametrize(
    "text",
    ["a: &x [*x]\n", "a: &x {b: *x}\n", "a: &x\n  b: &y\n    c: *x\n"],
)
def test_recursive_alias_is_refused(text: str) -> None:
    with pytest.raises(SourceError, match="recursive alias"):
        load_source(text)


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    with pytest.raises(SourceError, match="nested deeper than 64"):
        load_source("[" * 100_000 + "]" * 100_000)


def test_depth_counts_through_aliases() -> None:
    deep = "[" * 40 + "1" + "]" * 40
    text = f"a: &a {deep}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
    with pytest.raises(SourceError, match="nested deeper"):
        load_source(text)


def test_size_is_bounded() -> None:
    with pytest.raises(SourceError, match="too large"):
        load_source("a: " + "x" * 2000, limits=YamlLimits(max_bytes=1000))


def test_mapping_keys_must_be_plain_values() -> None:
    with pytest.raises(SourceError, match="a key must be a plain value"):
        load_source("? [1, 2]\n: x\n")


def test_odd_scalars_stay_text() -> None:
    src = load_source("big: " + "1" * 5000 + "\nday: 2024-13-45\n")
    assert src.data["big"] == "1" * 5000 and src.data["day"] == "2024-13-45"


def test_menu_checker_reports_bomb_as_an_issue() -> None:
    result = check_menu(_laughs(9), "bomb.yaml")
    assert not result.ok
    assert "too many values" in result.errors[0].message
