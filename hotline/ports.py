"""What the channel adapters (asterisk/, twilio_gateway/) need from the case store.

`CallRecorder` is the one port both adapters write calls through; `casestore.CallWriter`
implements it (the wiring passes `store.writer_instance`), tests pass hand-written fakes.

Why here: the core (acd/, ivr/) cannot hold it, since a recording's `RecordingInfo` comes
from recordings/; in casestore/ it would make every channel adapter import the case store
adapter (and SQLAlchemy) to name its port; in one channel adapter the other would import
it (adapter -> adapter). hotline/ is where adapters are wired to the store, and already
holds what the adapters share (`hotline.privacy`); this module imports only the core's
IVR events and the recordings port, and nothing in acd/ or ivr/ imports it.
"""

from __future__ import annotations

from typing import Protocol

from ivr.events import IvrEvent
from recordings.registry import RecordingRegistry


class CallRecorder(RecordingRegistry, Protocol):
    """Receives a call's life outside the ACD (whose events the store takes by subscription):

    - `record_call_start` when a call reaches the hotline, before the IVR, so a call that
      ends in the IVR still leaves its record;
    - `on_ivr_event` with every IVR interpreter event (steps; the record's outcome when the
      call ends in the IVR);
    - `record_recording` (from `RecordingRegistry`) when a recording is stored.

    All three only enqueue: they never block and never raise for a database problem."""

    def record_call_start(
        self,
        call_id: str,
        *,
        source: str = "",
        caller: str = "",
        dialed: str = "",
        language: str = "",
        at: float | None = None,
    ) -> None: ...

    def on_ivr_event(self, event: IvrEvent) -> None: ...
