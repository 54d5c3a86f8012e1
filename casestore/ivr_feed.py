"""IVR interpreter events (`ivr.events`) -> what the writer stores.

- NodeEntered -> IVR step `entered`;
- InputReceived -> IVR step `dtmf` / `speech` when matched, else `timeout` / `no_match` /
  `low_confidence`, with the digits or phrase and the recognizer's confidence;
- IvrOutcome -> IVR step `outcome` (`<kind>:<reason>`); when the call ends in the IVR (it is
  not transferred to a queue) the call record is completed too, with outcome `callback`,
  `abandoned`, `self_service` (the menu hung up: information given, survey done...) or
  `failed`, and the language the caller used. The writer applies such an end only to a call
  that was not waiting in the ACD when its IVR part ended, so a menu run after the agent (a
  survey) or during the wait (a callback offer) leaves the ACD's outcome alone. Data set by
  nodes (booking numbers...) is not stored.

This is the one mapping of IVR events to the store: the channel adapters hand every event to
`CallWriter.on_ivr_event` (through `hotline.ports.CallRecorder`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.events import InputReceived, InputResult, IvrEvent, IvrOutcome, NodeEntered, OutcomeKind

IVR_END_OUTCOMES = {
    OutcomeKind.CALLBACK: "callback",
    OutcomeKind.ABANDONED: "abandoned",
    OutcomeKind.HANGUP: "self_service",
    OutcomeKind.FAILED: "failed",
}


@dataclass(frozen=True, slots=True)
class IvrStepRecord:
    """One IVR step: `kind` is `entered` (node visited), `dtmf`, `speech`, `timeout`, `no_match`...;
    `input` the digits or recognized phrase, `confidence` the recognizer's (speech only);
    `seq` the interpreter's number for it (NodeEntered.step, InputReceived.attempt,
    IvrOutcome.steps), part of the step's key with (call, time, node, kind)."""

    call_id: str
    node: str
    kind: str
    at: float
    input: str | None = None
    confidence: float | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class CallStartRecord:
    """A call reached the hotline (before the IVR): who called, which number, from where."""

    call_id: str
    at: float
    source: str = ""
    caller: str = ""
    dialed: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class CallEndRecord:
    """A call ended outside the ACD (in the IVR)."""

    call_id: str
    at: float
    outcome: str
    language: str = ""


def ivr_items(event: IvrEvent) -> list[IvrStepRecord | CallEndRecord]:
    if isinstance(event, NodeEntered):
        return [IvrStepRecord(event.call_id, event.node, "entered", event.at, seq=event.step)]
    if isinstance(event, InputReceived):
        if event.result is InputResult.NO_INPUT:
            kind = "timeout"
        elif event.result is InputResult.MATCH:
            kind = event.kind.value
        else:
            kind = event.result.value
        return [
            IvrStepRecord(
                event.call_id, event.node, kind, event.at, event.value or None, event.confidence,
                event.attempt,
            )
        ]
    if isinstance(event, IvrOutcome):
        items: list[IvrStepRecord | CallEndRecord] = [
            IvrStepRecord(
                event.call_id, event.node, "outcome", event.at, f"{event.kind.value}:{event.reason}",
                seq=event.steps,
            )
        ]
        outcome = IVR_END_OUTCOMES.get(event.kind)
        if outcome is not None:
            items.append(CallEndRecord(event.call_id, event.at, outcome, event.language))
        return items
    return []
