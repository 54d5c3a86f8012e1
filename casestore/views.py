"""Plain read models returned by the store (no ORM rows leave the package).

Reprs mask personal data, so a view that ends up in a log line leaks nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.privacy import mask_id, mask_name, mask_phone


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    phone: str | None
    name: str | None = None
    tier: str | None = None
    language: str | None = None
    id_number: str | None = None

    @property
    def display_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @property
    def display_name(self) -> str:
        return mask_name(self.name) if self.name else ""

    def __repr__(self) -> str:
        id_number = mask_id(self.id_number) if self.id_number else None
        return (
            f"CustomerView(id={self.id}, phone={self.display_phone!r}, name={self.display_name!r}, "
            f"tier={self.tier!r}, language={self.language!r}, id_number={id_number!r})"
        )


@dataclass(frozen=True, slots=True)
class NoteView:
    author: str
    at: float
    body: str


@dataclass(frozen=True, slots=True)
class CaseView:
    id: int
    number: str
    category: str
    priority: str
    status: str
    opened_at: float
    due_at: float
    updated_at: float
    resolved_at: float | None = None
    closed_at: float | None = None
    assigned_agent: str | None = None
    customer_id: int | None = None
    subject: str | None = None
    origin_call_id: str | None = None
    resolution_code: str | None = None
    notes: tuple[NoteView, ...] = ()
    call_ids: tuple[str, ...] = ()

    def overdue_by(self, now: float) -> float:
        return max(0.0, now - self.due_at)


@dataclass(frozen=True, slots=True)
class CallView:
    id: str
    source: str | None
    caller: str | None
    dialed: str | None
    language: str | None
    queue: str | None
    agent_id: str | None
    priority: int | None
    tier: str | None
    started_at: float | None
    queued_at: float | None
    answered_at: float | None
    ended_at: float | None
    wait_seconds: float | None
    talk_seconds: float | None
    outcome: str | None
    disposition: str | None
    case_id: int | None
    direction: str = "inbound"  # outbound: Hotline called the customer (a follow-up call)

    def __repr__(self) -> str:
        caller = mask_phone(self.caller) if self.caller else self.caller
        return f"CallView(id={self.id!r}, caller={caller!r}, queue={self.queue!r}, outcome={self.outcome!r})"


@dataclass(frozen=True, slots=True)
class IvrStepView:
    at: float
    node: str
    kind: str
    input: str | None
    confidence: float | None


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """What an agent's screen shows when a call rings: who is calling and their recent cases."""

    customer: CustomerView
    recent_cases: tuple[CaseView, ...] = field(default=())
