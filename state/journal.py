"""The ACD's snapshot and event log on local disk (one node, no Redis).

Layout of the journal folder:

    snapshot.json        {"format": 1, "segment": k, "snapshot": {...}} (written atomically)
    events-<n>.log       one event per line (JSON), every event since a snapshot

Every event is written with one `os.write` on an O_APPEND file while the ACD delivers it, so
it is in the kernel before the operation that caused it returns to the adapter, and so
before Asterisk or Twilio is answered: a kill -9 loses nothing acknowledged. (A power cut can
lose what the kernel had not written yet, unless `fsync: true`.)

A snapshot switches to a new segment at once (no event can slip between the snapshot and the
switch: both run in one step of the event loop), then the snapshot file is written in a
worker thread and the older segments are deleted. Recovery reads the last snapshot file and
every segment from its own on, so a crash at any point leaves a replayable pair.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.events import Event, event_from_dict
from state.errors import StateError

log = logging.getLogger("hotline.state.journal")

SNAPSHOT = "snapshot.json"
SEGMENT = re.compile(r"^events-(\d{8})\.log$")


@dataclass
class Recovered:
    """What a journal folder holds: the last snapshot (None: none yet) and the events since."""

    snapshot: dict[str, Any] | None
    events: list[Event] = field(default_factory=list)
    last_segment: int = 0
    torn: int = 0  # a last line cut off by a crash (dropped)


def _segment_name(number: int) -> str:
    return f"events-{number:08d}.log"


def _segments(folder: Path) -> list[int]:
    numbers = []
    for entry in folder.iterdir():
        match = SEGMENT.match(entry.name)
        if match:
            numbers.append(int(match.group(1)))
    return sorted(numbers)


def recover(folder: Path) -> Recovered:
    """Read the journal (blocking: run in a worker thread). StateError if it is unreadable."""
    folder.mkdir(parents=True, exist_ok=True)
    snapshot: dict[str, Any] | None = None
    first = 0
    path = folder / SNAPSHOT
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            snapshot, first = stored["snapshot"], int(stored["segment"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{path}: not a journal snapshot ({exc!r})") from exc
    numbers = [n for n in _segments(folder) if n >= first]
    result = Recovered(snapshot, last_segment=max(numbers, default=first))
    for number in numbers:
        segment = folder / _segment_name(number)
        with segment.open("rb") as handle:
            lines = handle.read().split(b"\n")
        if lines and lines[-1]:
            result.torn += 1  # no newline: cut off by a crash while it was written
        for index, line in enumerate(lines[:-1]):
            try:
                result.events.append(event_from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise StateError(f"{segment}: line {index + 1} is not an event ({exc!r})") from exc
    return result


def set_aside(folder: Path) -> Path:
    """Move an unusable journal out of the way (kept for a post-mortem); returns where."""
    aside = folder / f"unusable-{time.strftime('%Y%m%dT%H%M%S')}"
    aside.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.name == SNAPSHOT or SEGMENT.match(entry.name):
            entry.rename(aside / entry.name)
    return aside


class LocalJournal:
    """Subscriber of an `Acd` appending each event to the current segment (see module doc)."""

    def __init__(self, folder: Path, *, segment: int, fsync: bool = False) -> None:
        self.folder = folder
        self.fsync = fsync
        self.segment = segment
        self.written = 0  # events in the current segment
        self.failures = 0
        self._fd = self._open(segment)

    def _open(self, number: int) -> int:
        return os.open(self.folder / _segment_name(number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)

    def __call__(self, event: Event) -> None:
        line = json.dumps(event.to_dict(), separators=(",", ":")).encode() + b"\n"
        try:
            os.write(self._fd, line)
        except OSError as exc:  # disk full: the ACD goes on, the loss is logged
            self.failures += 1
            if self.failures == 1 or self.failures % 1000 == 0:
                log.error("journal: cannot write %s (%s); %d events lost", self.folder, exc, self.failures)
            return
        self.written += 1

    def next_segment(self) -> int:
        """Start a new segment (the events from now on go there); returns its number."""
        old, self._fd = self._fd, self._open(self.segment + 1)
        self.segment += 1
        self.written = 0
        os.close(old)
        return self.segment

    def commit(self, snapshot: dict[str, Any], segment: int) -> int:
        """Write `snapshot` (taken when `segment` began) and delete the older segments
        (blocking: run in a worker thread). Returns the snapshot's size in bytes."""
        data = json.dumps({"format": 1, "segment": segment, "snapshot": snapshot}, separators=(",", ":")).encode()
        temporary = self.folder / (SNAPSHOT + ".tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
            if self.fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, self.folder / SNAPSHOT)
        if self.fsync:
            directory = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        for number in _segments(self.folder):
            if number < segment:
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / _segment_name(number)).unlink()
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def call_ids(events: Iterable[Event]) -> set[str]:
    return {call_id for e in events if isinstance(call_id := getattr(e, "call_id", None), str)}
