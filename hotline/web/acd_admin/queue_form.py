"""The queue form: the settings an admin changes most (what the queue asks of agents, its
policy, its service level, how long callers wait and where they go next, ring and wrap-up
times) read from a posted form into the queue's configuration. Keys the form does not show
(escalation, aging, announcements, callbacks, ...) are kept as they are; they are edited in
the queue's YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline.web.acd_admin.skills import parse_skills, skills_text

FIELDS = ("description", "skills", "policy", "sl_target", "sl_seconds", "max_wait", "overflow", "ring_timeout",
          "wrap_up", "wrap_up_manual", "message")


def _number(text: str) -> float | int | str:
    """A number as typed (an integer where it is one); anything else stays text, for the
    schema to name the key."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def queue_from_form(current: Mapping[str, Any], name: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The queue `name` as the form has it, on top of its `current` configuration. A blank
    field removes its key (the default applies)."""
    item = {k: v for k, v in current.items() if k != "name"}
    item = {"name": name, **item}

    def put(key: str, value: Any) -> None:
        if value in ("", None, {}):
            item.pop(key, None)
        else:
            item[key] = value

    put("description", form.get("description", "").strip())
    put("skills", parse_skills(form.get("skills", "")))
    put("policy", form.get("policy", "").strip())
    target, seconds = form.get("sl_target", "").strip(), form.get("sl_seconds", "").strip()
    if target or seconds:
        level = _number(target)
        item["service_level"] = {
            "target": level / 100 if isinstance(level, int | float) else level,
            "seconds": _number(seconds) if seconds else 20,
        }
    else:
        item.pop("service_level", None)
    for key in ("max_wait", "ring_timeout"):
        raw = form.get(key, "").strip()
        put(key, _number(raw) if raw else "")
    put("overflow", form.get("overflow", "").strip())
    if form.get("wrap_up_manual") == "on":
        item["wrap_up"] = None  # until the agent says they are done
    else:
        raw = form.get("wrap_up", "").strip()
        put("wrap_up", _number(raw) if raw else "")
    return item


def form_values(data: Mapping[str, Any]) -> dict[str, str]:
    """The form's fields for the queue configuration `data`."""
    level = data.get("service_level") or {}
    target = level.get("target")
    wrap = data.get("wrap_up", "")

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return {
        "description": text(data.get("description")),
        "skills": skills_text(data.get("skills") or {}),
        "policy": text(data.get("policy")),
        "sl_target": text(round(target * 100, 2)) if isinstance(target, int | float) else "",
        "sl_seconds": text(level.get("seconds")),
        "max_wait": text(data.get("max_wait")),
        "overflow": text(data.get("overflow")),
        "ring_timeout": text(data.get("ring_timeout")),
        "wrap_up": "" if wrap is None else text(wrap),
        "wrap_up_manual": "on" if "wrap_up" in data and wrap is None else "",
    }
