"""What the interpreter reports: one event per step, and the call's outcome.

Subscribers (the case store, logs, `hotline ivr try`) get every event through the
`on_event` callback of `ivr.interpreter.run_menu`, in order. Events are frozen dataclasses
with `at` (epoch seconds from the injected clock) and `to_dict()` (JSON-ready). The caller's
number appears only in a callback outcome (`transfer.callback_number`); mask it in logs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ivr.channel import InputKind, TransferRequest


class OutcomeKind(StrEnum):
    TRANSFER = "transfer"  # handed to an ACD queue
    CALLBACK = "callback"  # caller keeps their place and will be called back
    HANGUP = "hangup"  # the menu ended the call (hangup node, survey done, closed...)
    ABANDONED = "abandoned"  # the caller hung up in the IVR
    FAILED = "failed"  # step bound reached, or the channel failed


class InputResult(StrEnum):
    MATCH = "match"  # accepted: an option, a valid entry
    NO_MATCH = "no_match"  # not an option / failed validation
    LOW_CONFIDENCE = "low_confidence"  # speech below the confidence threshold
    NO_INPUT = "no_input"  # timeout or silence


@dataclass(frozen=True, slots=True)
class IvrEvent:
    at: float
    call_id: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = type(self).__name__
        return data


@dataclass(frozen=True, slots=True)
class NodeEntered(IvrEvent):
    menu: str
    version: int
    node: str
    kind: str
    step: int
    language: str


@dataclass(frozen=True, slots=True)
class InputReceived(IvrEvent):
    node: str
    kind: InputKind
    value: str  # the digits, or the recognized text ("" for none)
    confidence: float | None  # speech only
    result: InputResult
    option: str | None = None  # the option / answer chosen, when matched
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class DataSet(IvrEvent):
    node: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class IvrOutcome(IvrEvent):
    """The end of the call's IVR part (also the return value of `run_menu`)."""

    menu: str
    version: int
    kind: OutcomeKind
    node: str  # the node where it ended
    reason: str = ""
    language: str = ""
    transfer: TransferRequest | None = None
    path: tuple[str, ...] = ()
    data: dict[str, str] = field(default_factory=dict)
    steps: int = 0
