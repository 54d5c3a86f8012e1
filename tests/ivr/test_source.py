from __future__ import annotations

import pytest

from ivr.source import SourceError, format_path, load_source


def test_lines_paths_and_duplicates() -> None:
    src = load_source("a: 1\nb:\n  - x\n  - {c: '08:00', d: 2026-12-25}\nb: 2\n")
    assert src.data == {"a": 1, "b": ["x", {"c": "08:00", "d": "2026-12-25"}]}
    assert src.line(("b", 1, "d")) == 4
    assert src.line(("b", 1, "missing", 3)) == 4  # nearest ancestor
    assert src.duplicates == [(("b",), 5)]
    assert format_path(("nodes", "main", "options", 2, "next")) == "nodes.main.options[2].next"


def test_malformed_yaml_has_a_line() -> None:
    with pytest.raises(SourceError) as info:
        load_source("a: 1\nb: [1, 2\nc: 3\n")
    assert info.value.line is not None and info.value.line >= 2
