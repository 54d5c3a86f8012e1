"""A readable diff between two menu texts (difflib): the unified text for the API and
side-by-side rows (changed hunks with 3 lines of context) for the page."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

CONTEXT = 3


@dataclass(frozen=True, slots=True)
class DiffRow:
    kind: str  # same | changed | removed | added | gap
    old_line: int | None
    old: str
    new_line: int | None
    new: str


def unified(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name, n=CONTEXT,
    ))


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Rows of the changed hunks; a `gap` row between hunks. Empty when the texts are equal."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    for n, group in enumerate(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(CONTEXT)):
        if n:
            rows.append(DiffRow("gap", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffRow("same", i + 1, a[i], j + 1, b[j]) for i, j in zip(range(i1, i2), range(j1, j2),
                                                                                     strict=True))
                continue
            olds, news = list(range(i1, i2)), list(range(j1, j2))
            for k in range(max(len(olds), len(news))):
                i = olds[k] if k < len(olds) else None
                j = news[k] if k < len(news) else None
                kind = "changed" if i is not None and j is not None else ("removed" if i is not None else "added")
                rows.append(DiffRow(kind, None if i is None else i + 1, "" if i is None else a[i],
                                    None if j is None else j + 1, "" if j is None else b[j]))
    if all(row.kind == "same" for row in rows):  # equal texts: difflib still gives one group
        return []
    return rows
