"""Skills as an admin types them: `booking=6, refund: 3`."""

from __future__ import annotations

from typing import Any


def parse_skills(text: str) -> dict[str, Any]:
    """`booking=6, refund: 3` -> {"booking": 6, "refund": 3}; a level that is not a number
    stays text, for the schema to name (`skills.refund: ... an integer`)."""
    skills: dict[str, Any] = {}
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        name, _, level = part.replace(":", "=").partition("=")
        raw = level.strip()
        skills[name.strip()] = int(raw) if raw.lstrip("-").isdigit() else raw
    return skills


def skills_text(skills: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(skills.items()))
