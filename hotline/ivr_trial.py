"""One walk of a menu by a scripted caller: what `hotline ivr try` prints and what the admin
editor's test-call panel shows (one implementation for both).

    call = TrialCall(actions=(Press("1"), Say("환불")), at=parse_time("2026-12-01T10:00", "Asia/Seoul"))
    report = await try_menu(menu, call)             # -> dict: path, walk, outcome, transfer, ...

The real interpreter (`ivr.interpreter.run_menu`) runs over a `ScriptedChannel` with a virtual
clock set to the call's time (hours branches), a directory that knows the caller when a tier
is given, and an emergency switch of its own (the live one is never touched). With
`pause_when_done`, the walk stops at the first question after the last action (`waiting`),
so a panel can ask the person for the next key or phrase; otherwise an exhausted script is
silence, as on the command line. Numbers and values are masked in the report.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zoneinfo
from dataclasses import dataclass
from typing import Any

from acd.clock import VirtualClock
from hotline.privacy import mask_phone, mask_text
from ivr.channel import Prompt, TransferRequest
from ivr.directory import CustomerDirectory, CustomerInfo, StaticDirectory
from ivr.emergency import EmergencyState
from ivr.events import InputReceived, IvrEvent, NodeEntered
from ivr.interpreter import IvrSettings, run_menu
from ivr.menu import Menu
from ivr.scripted import Action, Press, Say, ScriptedChannel, ScriptExhausted, Step
from ivr.speech import Recognizer

DEFAULT_CALLER = "+821012345678"
KEYS = re.compile(r"[0-9*#]{1,32}")


class TrialError(ValueError):
    """The call cannot be tried as given (unknown node or language, bad time or keys)."""


@dataclass(frozen=True)
class TrialCall:
    actions: tuple[Action, ...] = ()
    at: float | None = None  # epoch seconds; None: now
    language: str | None = None
    start: str | None = None
    caller: str | None = DEFAULT_CALLER  # None: withheld
    tier: str | None = None  # the directory knows the caller with this tier ...
    customer_language: str | None = None  # ... and this language
    emergency: str | None = None  # None: off; "" on with the menu's announcement; text: on
    confidence: float | None = None
    pause_when_done: bool = False


def parse_time(text: str | None, timezone: str | None = None) -> float:
    """Epoch seconds of an ISO 8601 time; a time without offset is in `timezone` (else UTC)."""
    if not text:
        return time.time()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise TrialError(f"time {text!r}: use ISO 8601, e.g. 2026-11-23T10:00+09:00") from exc
    if when.tzinfo is None:
        try:
            zone: dt.tzinfo = zoneinfo.ZoneInfo(timezone) if timezone else dt.UTC
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise TrialError(f"time zone {timezone!r} is unknown") from exc
        when = when.replace(tzinfo=zone)
    return when.timestamp()


def press(keys: str) -> Press:
    if not KEYS.fullmatch(keys):
        raise TrialError(f"keys {keys!r}: only 0-9, * and #, at most 32")
    return Press(keys)


def say(value: str) -> Say:
    """`TEXT` or `TEXT@CONFIDENCE` (0-1; default 1.0)."""
    m = re.fullmatch(r"(.*?)@([01](?:\.\d+)?)", value)
    return Say(m.group(1), float(m.group(2))) if m else Say(value)


def check_call(menu: Menu, call: TrialCall) -> None:
    if call.start and call.start not in menu.nodes:
        raise TrialError(f"start {call.start!r}: no such node")
    if call.language and call.language not in menu.languages:
        raise TrialError(f"language {call.language!r}: the menu has {list(menu.languages)}")


def prompt_dict(p: Prompt) -> dict[str, Any]:
    return {"text": p.text, "language": p.language, "audio": p.audio, "key": p.key}


def transfer_dict(t: TransferRequest | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "queue": t.queue,
        "skills": dict(t.skills),
        "priority": t.priority,
        "tier": t.tier,
        "language": t.language,
        "callback_number": mask_phone(t.callback_number) if t.callback_number else None,
        "data": {k: mask_text(v) for k, v in t.data.items()},
    }


def _question(step: Step) -> dict[str, Any]:
    speech: Any = None
    if step.speech is not None:
        speech = list(step.speech.grammar) if step.speech.grammar is not None else "free-form"
    return {"dtmf": step.digits is not None, "speech": speech}


class Walk:
    """Turns the interpreter's events and the channel's steps into the reported walk."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []

    def event(self, event: IvrEvent) -> None:
        if isinstance(event, NodeEntered):
            self.nodes.append(
                {"node": event.node, "kind": event.kind, "language": event.language, "steps": []}
            )
        elif isinstance(event, InputReceived) and self.nodes:
            self.nodes[-1]["steps"].append(
                {
                    "op": "input",
                    "kind": event.kind.value,
                    "value": mask_text(event.value),
                    "confidence": event.confidence,
                    "result": event.result.value,
                    "option": mask_text(event.option) if event.option else None,
                }
            )

    def step(self, step: Step) -> None:
        if not self.nodes:
            return
        entry: dict[str, Any] = {"op": step.op}
        if step.prompts:
            entry["prompts"] = [prompt_dict(p) for p in step.prompts]
        if step.op == "gather":
            entry.update(_question(step))
        if step.op == "set_data":
            entry["key"], entry["value"] = step.key, mask_text(step.value)
        if step.op == "transfer":
            entry["transfer"] = transfer_dict(step.transfer)
        self.nodes[-1]["steps"].append(entry)


async def try_menu(menu: Menu, call: TrialCall, recognizer: Recognizer | None = None) -> dict[str, Any]:
    """Walk `menu` with the scripted caller of `call`; the report as plain data:
    menu, version, outcome (None while `waiting`), reason, node, language, path, steps,
    transfer (the queue reached), data, walk (per node: prompts said, questions, inputs) and
    waiting (the unanswered question, with `pause_when_done`)."""
    check_call(menu, call)
    directory: CustomerDirectory | None = None
    if call.tier or call.customer_language:
        info = CustomerInfo(tier=call.tier or "regular", language=call.customer_language)
        directory = StaticDirectory({call.caller: info} if call.caller else {})
    clock = VirtualClock(time.time() if call.at is None else call.at)
    emergency = EmergencyState()
    if call.emergency is not None:
        text = {call.language or menu.default_language: call.emergency} if call.emergency else {}
        emergency.activate(clock.now(), "ivr-try", text)
    walk = Walk()
    channel = ScriptedChannel(list(call.actions), recognizer, caller=call.caller, observer=walk.step,
                              pause_when_done=call.pause_when_done)
    try:
        outcome = await run_menu(
            menu, channel, clock=clock, directory=directory, emergency=emergency, on_event=walk.event,
            settings=IvrSettings(confidence=call.confidence), language=call.language, start=call.start,
        )
    except ScriptExhausted as paused:
        node = walk.nodes[-1] if walk.nodes else {"node": call.start or menu.start, "kind": "", "language": ""}
        return {
            "menu": menu.name, "version": menu.version, "outcome": None, "reason": "waiting",
            "node": node["node"], "language": node["language"],
            "path": [n["node"] for n in walk.nodes], "steps": len(walk.nodes), "transfer": None,
            "data": {k: mask_text(v) for k, v in channel.data.items()}, "walk": walk.nodes,
            "waiting": {"node": node["node"], "kind": node["kind"],
                        "prompts": [prompt_dict(p) for p in paused.step.prompts], **_question(paused.step)},
        }
    return {
        "menu": outcome.menu, "version": outcome.version, "outcome": outcome.kind.value,
        "reason": outcome.reason, "node": outcome.node, "language": outcome.language,
        "path": list(outcome.path), "steps": outcome.steps, "transfer": transfer_dict(outcome.transfer),
        "data": {k: mask_text(v) for k, v in outcome.data.items()}, "walk": walk.nodes, "waiting": None,
    }
