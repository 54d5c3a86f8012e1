"""Case status workflow: open -> in_progress -> resolved -> closed, and reopen.

Pure functions; the repository calls `check_case_transition` before every status change.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from casestore.errors import IllegalCaseTransition


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


CASE_TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.RESOLVED, CaseStatus.OPEN}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.OPEN}),  # -> open is a reopen
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),  # reopen
}

ACTIVE_STATUSES = frozenset({CaseStatus.OPEN, CaseStatus.IN_PROGRESS})


def check_case_transition(number: str, current: str, wanted: str) -> CaseStatus:
    """Return the wanted status if the workflow allows it, else raise IllegalCaseTransition."""
    try:
        now, target = CaseStatus(current), CaseStatus(wanted)
    except ValueError:
        raise IllegalCaseTransition(number, current, wanted) from None
    if target not in CASE_TRANSITIONS[now]:
        raise IllegalCaseTransition(number, current, wanted)
    return target
