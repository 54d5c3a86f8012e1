"""SLA rules: the time a case must be resolved by, from its category and priority.

Rules are matched in order; the first whose category and priority match (``*`` matches
anything) gives the minutes. Pure: `due_at` takes the opening time as an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PRIORITIES = ("urgent", "major", "complex", "common", "general")


@dataclass(frozen=True, slots=True)
class SlaRule:
    category: str
    priority: str
    minutes: float

    def matches(self, category: str, priority: str) -> bool:
        return self.category in ("*", category) and self.priority in ("*", priority)


DEFAULT_SLA_RULES: tuple[SlaRule, ...] = (
    SlaRule("complaint", "urgent", 15),
    SlaRule("complaint", "major", 60),
    SlaRule("complaint", "general", 24 * 60),
    SlaRule("consultation", "common", 2 * 60),
    SlaRule("consultation", "complex", 4 * 60),
    SlaRule("consultation", "major", 24 * 60),
    SlaRule("emergency", "*", 15),
    SlaRule("*", "urgent", 15),
    SlaRule("*", "major", 60),
    SlaRule("*", "complex", 4 * 60),
    SlaRule("*", "*", 24 * 60),
)


class SlaPolicy:
    def __init__(self, rules: Iterable[SlaRule] = DEFAULT_SLA_RULES) -> None:
        self.rules: tuple[SlaRule, ...] = tuple(rules)
        if not self.rules:
            raise ValueError("at least one SLA rule is needed")

    def minutes(self, category: str, priority: str) -> float:
        for rule in self.rules:
            if rule.matches(category, priority):
                return rule.minutes
        raise ValueError(f"no SLA rule matches category {category!r} priority {priority!r}")

    def due_at(self, category: str, priority: str, opened_at: float) -> float:
        """Epoch seconds by which the case must be resolved."""
        return opened_at + self.minutes(category, priority) * 60.0


def parse_sla_rules(raw: Sequence[Any] | None, where: str = "store.sla") -> tuple[SlaRule, ...]:
    """Parse `[{category, priority, minutes}, ...]`; configured rules come before the defaults."""
    if not raw:
        return DEFAULT_SLA_RULES
    rules = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}[{i}]: a rule is a mapping with category, priority, minutes")
        unknown = set(item) - {"category", "priority", "minutes"}
        if unknown:
            raise ValueError(f"{where}[{i}]: unknown keys {sorted(unknown)}")
        try:
            minutes = float(item["minutes"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}[{i}]: 'minutes' must be a number") from None
        if minutes <= 0:
            raise ValueError(f"{where}[{i}]: 'minutes' must be positive")
        rules.append(SlaRule(str(item.get("category", "*")), str(item.get("priority", "*")), minutes))
    return (*rules, *DEFAULT_SLA_RULES)
