"""Routing and service rules, pure: which team takes a case, which member within it, when a
case is escalated to the team lead, whether and how the customer is told.

No I/O and no clock: callers pass `now` and the members' open workloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WILDCARD = "*"
CHANNELS = ("sms", "email")


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """A case of this category, priority and queue (``*`` matches anything) goes to `team`,
    to a member with `skill` (empty: any member)."""

    team: str
    category: str = WILDCARD
    priority: str = WILDCARD
    queue: str = WILDCARD
    skill: str = ""

    def matches(self, category: str, priority: str, queue: str | None) -> bool:
        return (
            self.category in (WILDCARD, category)
            and self.priority in (WILDCARD, priority)
            and self.queue in (WILDCARD, queue or "")
        )


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    skills: frozenset[str] = frozenset()
    lead: bool = False
    available: bool = True


@dataclass(frozen=True, slots=True)
class Assignment:
    team: str
    user_id: int | None  # None: no member of the team can take it (it waits in the team)
    skill: str


@dataclass(frozen=True, slots=True)
class ServiceRules:
    routing: tuple[RoutingRule, ...] = ()
    escalate_before_minutes: float = 30.0  # escalate to the lead this long before the due time
    notify_on: frozenset[str] = frozenset({"resolved"})  # case statuses that tell the customer
    notify_within_minutes: float = 60.0  # the customer must be told within this time
    survey_days: float = 7.0  # a survey link stays valid this long
    follow_up: tuple[FollowUpRule, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowUpRule:
    """A case of `category` that reaches `status` gets a follow-up call `after_hours` later."""

    category: str = WILDCARD
    status: str = "resolved"
    after_hours: float = 24.0


def pick_rule(rules: Sequence[RoutingRule], category: str, priority: str, queue: str | None) -> RoutingRule | None:
    """The first rule that matches, or None."""
    return next((r for r in rules if r.matches(category, priority, queue)), None)


def pick_member(members: Iterable[Member], workload: Mapping[int, int], skill: str = "") -> int | None:
    """The available member with the skill and the lightest open workload; ties go to the
    lowest user id, so the choice is stable. None when nobody qualifies."""
    able = [m for m in members if m.available and (not skill or skill in m.skills)]
    if not able:
        return None
    return min(able, key=lambda m: (workload.get(m.user_id, 0), m.user_id)).user_id


def assign(
    rules: ServiceRules, teams: Mapping[str, Sequence[Member]], workload: Mapping[int, int],
    category: str, priority: str, queue: str | None,
) -> Assignment | None:
    """Where a new or escalated case goes; None when no rule names a team."""
    rule = pick_rule(rules.routing, category, priority, queue)
    if rule is None:
        return None
    return Assignment(rule.team, pick_member(teams.get(rule.team, ()), workload, rule.skill), rule.skill)


def escalation_time(rules: ServiceRules, due_at: float) -> float:
    """When an unresolved case goes to its team lead: before the SLA due time passes."""
    return due_at - rules.escalate_before_minutes * 60.0


def needs_escalation(rules: ServiceRules, due_at: float, now: float, already_escalated: bool) -> bool:
    return not already_escalated and now >= escalation_time(rules, due_at)


def lead_of(members: Iterable[Member]) -> int | None:
    leads = sorted(m.user_id for m in members if m.lead)
    return leads[0] if leads else None


def tells_customer(rules: ServiceRules, status: str) -> bool:
    return status in rules.notify_on


def follow_up_after(rules: ServiceRules, category: str, status: str) -> float | None:
    """Seconds after which a follow-up call is due for this change, or None."""
    for rule in rules.follow_up:
        if rule.category in (WILDCARD, category) and rule.status == status:
            return rule.after_hours * 3600.0
    return None


def choose_channel(phone: str | None, email: str | None, preferred: str | None) -> str | None:
    """SMS or e-mail: the customer's preference when we have that address, else what we have."""
    have = {"sms": bool(phone), "email": bool(email)}
    if preferred is not None and have.get(preferred):
        return preferred
    return next((c for c in CHANNELS if have[c]), None)


# --- configuration: the `service` section -------------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "routing": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["team"],
                "properties": {
                    "team": {"type": "string", "minLength": 1},
                    "category": {"type": "string"},
                    "priority": {"type": "string"},
                    "queue": {"type": "string"},
                    "skill": {"type": "string"},
                },
            },
        },
        "escalate_before_minutes": {"type": "number", "minimum": 0},
        "notify_on": {"type": "array", "items": {"enum": ["in_progress", "resolved", "closed"]}},
        "notify_within_minutes": {"type": "number", "exclusiveMinimum": 0},
        "survey_days": {"type": "number", "exclusiveMinimum": 0},
        "follow_up": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "category": {"type": "string"},
                    "status": {"enum": ["resolved", "closed"]},
                    "after_hours": {"type": "number", "minimum": 0},
                },
            },
        },
    },
}


def parse_service_rules(raw: Mapping[str, Any] | None, where: str = "service") -> ServiceRules:
    """Validate the `service` section against SCHEMA; errors name the key."""
    import jsonschema  # validation only; the rules themselves stay pure

    data = dict(raw or {})
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        path = ".".join(str(p) for p in first.absolute_path)
        raise ValueError(f"{where}{'.' + path if path else ''}: {first.message}")
    base = ServiceRules()
    return ServiceRules(
        routing=tuple(RoutingRule(**r) for r in data.get("routing", ())),
        escalate_before_minutes=float(data.get("escalate_before_minutes", base.escalate_before_minutes)),
        notify_on=frozenset(data.get("notify_on", base.notify_on)),
        notify_within_minutes=float(data.get("notify_within_minutes", base.notify_within_minutes)),
        survey_days=float(data.get("survey_days", base.survey_days)),
        follow_up=tuple(FollowUpRule(**r) for r in data.get("follow_up", ())),
    )
