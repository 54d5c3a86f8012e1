"""Read models and filters of case work (`casestore.casework`): plain, frozen, and with reprs
that mask personal data like the other views."""

from __future__ import annotations

from dataclasses import dataclass

from casestore.views import CallView, CaseView, CustomerView, IvrStepView
from hotline.privacy import mask_name, mask_phone


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Every given field narrows the list; `text` searches subject, number and notes."""

    status: tuple[str, ...] = ()
    category: str | None = None
    priority: str | None = None
    overdue: bool = False
    assignee: str | None = None
    unassigned: bool = False
    phone: str | None = None
    number: str | None = None
    text: str | None = None
    active_only: bool = False
    limit: int = 200


@dataclass(frozen=True, slots=True)
class CallFilter:
    phone: str | None = None
    since: float | None = None
    until: float | None = None
    queue: str | None = None
    agent: str | None = None
    outcome: str | None = None
    limit: int = 200


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case: CaseView
    customer_phone: str | None
    customer_name: str | None
    customer_tier: str | None
    overdue: bool

    def __repr__(self) -> str:
        phone = mask_phone(self.customer_phone) if self.customer_phone else None
        name = mask_name(self.customer_name) if self.customer_name else None
        return f"CaseSummary({self.case.number}, phone={phone!r}, name={name!r}, overdue={self.overdue})"


@dataclass(frozen=True, slots=True)
class CallSummary:
    call: CallView
    case_number: str | None


@dataclass(frozen=True, slots=True)
class RecordingView:
    id: int
    call_id: str
    uri: str
    format: str
    duration: float | None
    size: int
    created_at: float


@dataclass(frozen=True, slots=True)
class StatusChangeView:
    at: float
    actor: str
    from_status: str
    to_status: str
    resolution_code: str | None


@dataclass(frozen=True, slots=True)
class TimelineCall:
    call: CallView
    ivr_path: tuple[IvrStepView, ...] = ()
    recordings: tuple[RecordingView, ...] = ()

    def collected(self) -> dict[str, str]:
        """Every value the caller gave the IVR (digits or recognised words), by node; the last
        answer of a node wins."""
        values: dict[str, str] = {}
        for step in self.ivr_path:
            if step.kind in ("dtmf", "speech") and step.input:
                values[step.node] = step.input
        return values


@dataclass(frozen=True, slots=True)
class CaseTimeline:
    case: CaseView
    customer: CustomerView | None
    calls: tuple[TimelineCall, ...]
    changes: tuple[StatusChangeView, ...]
