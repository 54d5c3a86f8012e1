"""Refuses `collect` patterns that Python's backtracking regex engine can take exponential
time on, such as `(1+)+2` (seconds at 27 digits): checked when a menu is checked, so such a
pattern never reaches a call.

Refused: a group repeated more than `MAX_OUTER_REPEAT` times (or without bound) that itself
holds a variable part (a `+`, `*`, `?` or `{m,n}`, or alternatives `a|b`), and
back-references. Possessive repeats and atomic groups do not backtrack and are allowed.
The caller's input is bounded too: at most 32 digits (`max_digits`), checked before the
pattern runs.
"""

from __future__ import annotations

import re
import re._constants as _c  # type: ignore[import-not-found]
import re._parser as _p  # type: ignore[import-not-found]
from typing import Any

MAX_OUTER_REPEAT = 4
MAX_PATTERN_LENGTH = 200
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT)


def _variable(items: Any) -> bool:
    """Whether a parsed subpattern can match in more than one way (has a choice point)."""
    for op, av in items:
        if op in _REPEATS:
            low, high, sub = av
            if low != high or _variable(sub):
                return True
        elif op is _c.BRANCH:
            return True
        elif op is _c.SUBPATTERN:
            if _variable(av[3]):
                return True
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            if _variable(av[1]):
                return True
        elif op is _c.GROUPREF_EXISTS:
            return True
    return False


def _problem(items: Any) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            _low, high, sub = av
            if (high is _c.MAXREPEAT or high > MAX_OUTER_REPEAT) and _variable(sub):
                return "a repeated group holds a variable part (like (1+)+): matching can take exponential time"
            found = _problem(sub)
        elif op is _c.SUBPATTERN:
            found = _problem(av[3])
        elif op is _c.BRANCH:
            found = next((p for p in map(_problem, av[1]) if p), None)
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            found = _problem(av[1])
        elif op in (_c.GROUPREF, _c.GROUPREF_EXISTS):
            return "back-references are not allowed"
        else:
            found = None
        if found:
            return found
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is refused (invalid, too long, or able to backtrack catastrophically),
    or None when it is safe to run against a caller's digits."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    try:
        re.compile(pattern)
        parsed = _p.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"invalid pattern: {exc}"
    try:
        return _problem(parsed)
    except RecursionError:
        return "nested too deeply"
