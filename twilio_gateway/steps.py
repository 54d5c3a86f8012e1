"""IVR events -> the case store's IVR steps (`CallWriter.record_ivr_step`)."""

from __future__ import annotations

from typing import Protocol

from ivr.events import InputReceived, InputResult, IvrEvent, IvrOutcome, NodeEntered


class IvrStepSink(Protocol):
    def record_ivr_step(
        self,
        call_id: str,
        node: str,
        kind: str,
        input: str | None = None,
        confidence: float | None = None,
        at: float | None = None,
    ) -> None: ...


def record_ivr_event(sink: IvrStepSink, event: IvrEvent) -> None:
    """One step per node entered, per input (dtmf / speech / timeout / no_match /
    low_confidence) and for the outcome. Data set by nodes (booking numbers...) stays out."""
    if isinstance(event, NodeEntered):
        sink.record_ivr_step(event.call_id, event.node, "entered", at=event.at)
    elif isinstance(event, InputReceived):
        if event.result is InputResult.NO_INPUT:
            kind = "timeout"
        elif event.result is InputResult.MATCH:
            kind = event.kind.value
        else:
            kind = event.result.value
        sink.record_ivr_step(
            event.call_id, event.node, kind, input=event.value or None, confidence=event.confidence,
            at=event.at,
        )
    elif isinstance(event, IvrOutcome):
        sink.record_ivr_step(
            event.call_id, event.node, "outcome", input=f"{event.kind.value}:{event.reason}", at=event.at
        )
