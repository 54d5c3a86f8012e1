"""The channel variables the IVR sets on a caller before parking it, read back when a
later Hotline process adopts the caller (asterisk.resync)."""

from __future__ import annotations

from collections.abc import Mapping

VAR_QUEUE = "HOTLINE_QUEUE"
VAR_PRIORITY = "HOTLINE_PRIORITY"
VAR_TIER = "HOTLINE_TIER"
VAR_LANGUAGE = "HOTLINE_LANGUAGE"
VAR_SKILLS = "HOTLINE_SKILLS"
VAR_QUEUED_AT = "HOTLINE_QUEUED_AT"  # epoch seconds the IVR queued the call (the wait survives restarts)


def encode_skills(skills: Mapping[str, int]) -> str:
    return ",".join(f"{k}:{v}" for k, v in sorted(skills.items()))


def decode_skills(text: str) -> dict[str, int]:
    skills: dict[str, int] = {}
    for part in text.split(","):
        name, _, level = part.partition(":")
        if name and level.isdigit():
            skills[name] = int(level)
    return skills
