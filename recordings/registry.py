"""The port adapters use to register a stored recording against its call.

The case store's `CallWriter` implements it (`record_recording`), so the Asterisk adapter
(MixMonitor file) and the Twilio adapter (downloaded recording) do:

    info = await store.import_file(call_id, mixmonitor_path, move=True)
    registry.record_recording(call_id, info)

or simply `await store_recording(store, registry, call_id, path_or_bytes)`.
"""

from __future__ import annotations

import os
from typing import Protocol

from recordings.store import FilesystemRecordingStore, RecordingInfo


class RecordingRegistry(Protocol):
    def record_recording(self, call_id: str, info: RecordingInfo) -> None: ...


async def store_recording(
    store: FilesystemRecordingStore,
    registry: RecordingRegistry,
    call_id: str,
    source: bytes | str | os.PathLike[str],
    *,
    format: str | None = None,
    move: bool = False,
) -> RecordingInfo:
    """Store a recording (bytes, or a file to copy/move in) and link it to its call."""
    if isinstance(source, bytes):
        info = await store.save(call_id, source, format or "wav")
    else:
        info = await store.import_file(call_id, source, move=move, format=format)
    registry.record_recording(call_id, info)
    return info
