"""Recording storage: files on disk with size, sha256, duration and a retention date."""

from recordings.registry import RecordingRegistry, store_recording
from recordings.store import (
    FilesystemRecordingStore,
    RecordingError,
    RecordingInfo,
    RecordingNotFound,
)

__all__ = [
    "FilesystemRecordingStore",
    "RecordingError",
    "RecordingInfo",
    "RecordingNotFound",
    "RecordingRegistry",
    "store_recording",
]
