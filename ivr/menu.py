"""The menu model: immutable, built from schema-valid data by `build_menu`.

One `Node` type carries the common fields; kind-specific settings sit in optional fields
(`choices` for menu/language/survey/callback, `collect`, `transfer`, `schedule`, ...).
Use `ivr.checker.check_menu` (or the registry) to get a Menu from text: it validates first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.hours import Schedule, parse_schedule

INPUT_KINDS = frozenset({"menu", "collect", "language", "survey", "callback"})
# Kinds whose flow ends the IVR (no `next` needed).
TERMINAL_KINDS = frozenset({"transfer", "hangup"})


@dataclass(frozen=True, slots=True)
class PromptText:
    text: str
    audio: str | None = None


Prompts = Mapping[str, PromptText]  # language -> what to say
Keywords = Mapping[str, tuple[str, ...]]  # language -> keywords and synonyms


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer a caller can give: a DTMF key and/or spoken keywords; `id` names it
    (the option's target, the language code, the survey score, accept/decline)."""

    id: str
    dtmf: str | None = None
    keywords: Keywords = field(default_factory=dict)
    next: str | None = None
    index: int = 0  # position in the file, for messages

    def phrases(self, language: str) -> tuple[str, ...]:
        return self.keywords.get(language, ())


@dataclass(frozen=True, slots=True)
class CollectSpec:
    input: str = "digits"  # digits | speech
    min_digits: int = 1
    max_digits: int = 1
    terminator: str = "#"
    pattern: str | None = None
    checksum: str | None = None
    grammar: Keywords | None = None  # speech: allowed phrases per language (None: free-form)
    store: str = ""


@dataclass(frozen=True, slots=True)
class TransferSpec:
    queue: str
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    tier: str | None = None  # None: the tier found by an identify node (or "regular")


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str
    prompt: Prompts = field(default_factory=dict)
    next: str | None = None
    description: str = ""
    # nodes waiting for input
    retries: int | None = None
    timeout: float | None = None
    barge_in: bool = True
    speech: bool = True
    confidence: float | None = None
    no_input: Prompts = field(default_factory=dict)
    no_match: Prompts = field(default_factory=dict)
    dtmf_fallback: Prompts = field(default_factory=dict)
    on_failure: str | None = None
    # kind-specific
    choices: tuple[Choice, ...] = ()
    collect: CollectSpec | None = None
    transfer: TransferSpec | None = None
    schedule: Schedule | None = None
    open: str | None = None
    closed: str | None = None
    emergency_name: str = ""
    announcement: Prompts = field(default_factory=dict)
    target: str | None = None
    use_language: bool = True
    store: str = ""
    queue: str = ""
    confirm: Prompts = field(default_factory=dict)
    reason: str = ""

    def targets(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """(path within the node, node id) for every edge leaving this node."""
        for name in ("next", "on_failure", "open", "closed", "target"):
            value = getattr(self, name)
            if value:
                yield (name,), value
        for choice in self.choices:
            if choice.next:
                if self.kind == "callback":
                    yield (choice.id, "next"), choice.next
                else:
                    yield ("options", choice.index, "next"), choice.next


@dataclass(frozen=True, slots=True)
class MenuSettings:
    retries: int = 2  # extra attempts after the first
    timeout: float = 5.0
    confidence: float = 0.95  # speech below this is a no-match
    speech_attempts: int = 2  # failed speech attempts before asking for DTMF only
    max_steps: int = 50  # bound on nodes visited per call
    on_failure: str | None = None


@dataclass(frozen=True)
class Menu:
    name: str
    languages: tuple[str, ...]
    default_language: str
    start: str
    nodes: Mapping[str, Node]
    settings: MenuSettings = MenuSettings()
    entries: tuple[str, ...] = ()
    description: str = ""
    version: int = 0  # set by the registry on activation
    source: str = ""

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


def normalize(text: str) -> str:
    """Comparable form of a phrase: NFC, lower case, single spaces, no punctuation."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def _prompts(raw: Any) -> dict[str, PromptText]:
    out: dict[str, PromptText] = {}
    for lang, item in (raw or {}).items():
        if isinstance(item, str):
            out[lang] = PromptText(item)
        else:
            out[lang] = PromptText(item["text"], item.get("audio"))
    return out


def _keywords(raw: Any) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(str(w) for w in words) for lang, words in (raw or {}).items()}


def _dtmf(raw: Any) -> str | None:
    return None if raw is None else str(raw)


def build_node(node_id: str, raw: Mapping[str, Any]) -> Node:
    """A Node from schema-valid data; raises HoursError for invalid hours."""
    kind = raw["kind"]
    args: dict[str, Any] = {
        "id": node_id,
        "kind": kind,
        "prompt": _prompts(raw.get("prompt")),
        "next": raw.get("next"),
        "description": raw.get("description", ""),
        "retries": raw.get("retries"),
        "timeout": raw.get("timeout"),
        "barge_in": raw.get("barge_in", True),
        "speech": raw.get("speech", True),
        "confidence": raw.get("confidence"),
        "no_input": _prompts((raw.get("no_input") or {}).get("prompt")),
        "no_match": _prompts((raw.get("no_match") or {}).get("prompt")),
        "dtmf_fallback": _prompts(raw.get("dtmf_fallback")),
        "on_failure": raw.get("on_failure"),
    }
    if kind == "menu":
        args["choices"] = tuple(
            Choice(o["next"], _dtmf(o.get("dtmf")), _keywords(o.get("keywords")), o["next"], i)
            for i, o in enumerate(raw["options"])
        )
    elif kind == "language":
        args["choices"] = tuple(
            Choice(o["language"], _dtmf(o.get("dtmf")), _keywords(o.get("keywords")), None, i)
            for i, o in enumerate(raw["options"])
        )
    elif kind == "survey":
        answers = raw.get("answers") or {}
        args["choices"] = tuple(
            Choice(str(n), str(n), _keywords(answers.get(str(n))), None, n - 1) for n in range(1, 6)
        )
        args["store"] = raw.get("store", "survey_score")
    elif kind == "callback":
        args["choices"] = tuple(
            Choice(
                name,
                _dtmf(raw[name].get("dtmf")),
                _keywords(raw[name].get("keywords")),
                raw[name].get("next"),
                i,
            )
            for i, name in enumerate(("accept", "decline"))
        )
        args["queue"] = raw["queue"]
        args["confirm"] = _prompts(raw.get("confirm"))
    elif kind == "collect":
        max_digits = raw.get("max_digits", raw.get("min_digits", 1))
        grammar = raw.get("grammar")
        args["collect"] = CollectSpec(
            input=raw.get("input", "digits"),
            min_digits=raw.get("min_digits", 1),
            max_digits=max_digits,
            terminator=raw.get("terminator", "#"),
            pattern=raw.get("pattern"),
            checksum=raw.get("checksum"),
            grammar=_keywords(grammar) if grammar is not None else None,
            store=raw["store"],
        )
    elif kind == "transfer":
        args["transfer"] = TransferSpec(
            raw["queue"], dict(raw.get("skills") or {}), raw.get("priority", 0), raw.get("tier")
        )
    elif kind == "hours":
        args["schedule"] = parse_schedule(
            raw["timezone"], raw["weekly"], raw.get("holidays"), ("nodes", node_id)
        )
        args["open"], args["closed"] = raw["open"], raw["closed"]
    elif kind == "emergency":
        args["emergency_name"] = raw.get("name", node_id)
        args["announcement"] = _prompts(raw["announcement"])
        args["target"] = raw["target"]
    elif kind == "identify":
        args["use_language"] = raw.get("use_language", True)
    elif kind == "goto":
        args["target"] = raw["target"]
    elif kind == "hangup":
        args["reason"] = raw.get("reason", "")
    return Node(**args)


def build_menu(
    data: Mapping[str, Any], source: str = "", nodes: Mapping[str, Node] | None = None
) -> Menu:
    """A Menu from schema-valid data (see ivr.checker for the validation); `nodes` already
    built are used as they are."""
    languages = tuple(data["languages"])
    s = data.get("settings") or {}
    settings = MenuSettings(
        retries=s.get("retries", 2),
        timeout=s.get("timeout", 5.0),
        confidence=s.get("confidence", 0.95),
        speech_attempts=s.get("speech_attempts", 2),
        max_steps=s.get("max_steps", 50),
        on_failure=s.get("on_failure"),
    )
    built = {
        node_id: (nodes or {}).get(node_id) or build_node(node_id, raw)
        for node_id, raw in data["nodes"].items()
    }
    return Menu(
        name=data["menu"],
        languages=languages,
        default_language=data.get("default_language", languages[0]),
        start=data["start"],
        nodes=built,
        settings=settings,
        entries=tuple(data.get("entries") or ()),
        description=data.get("description", ""),
        source=source,
    )
