"""A backup on disk: a folder `<id>/` in the backup location holding `manifest.json`,
`db/<table>.jsonl.gz` (every row, one JSON array a line) and `recordings/` (the recording
files this backup added). The manifest lists every table's row count and checksum and every
recording (URI, size, SHA-256, and the id of the backup folder holding its file), so an
incremental backup only copies the recordings its base chain does not already hold.

A backup is written into `.partial-<id>/` and renamed when complete: a folder without the
`.partial-` prefix is a whole backup.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

FORMAT = 1
MANIFEST = "manifest.json"
PARTIAL = ".partial-"
Kind = Literal["full", "incremental"]


class BackupError(Exception):
    """A backup could not be written, read, restored or verified; the message says why."""


@dataclass(frozen=True)
class TableEntry:
    rows: int
    sha256: str
    columns: list[str]


@dataclass(frozen=True)
class RecordingEntry:
    uri: str
    size: int
    sha256: str
    stored_in: str  # id of the backup folder that holds the file


@dataclass
class Manifest:
    id: str
    kind: Kind
    created_at: float
    schema_revision: str
    source: str  # database URL without password
    base: str | None = None  # incremental: the backup it builds on
    tables: dict[str, TableEntry] = field(default_factory=dict)
    recordings: list[RecordingEntry] = field(default_factory=list)
    missing_recordings: list[str] = field(default_factory=list)
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str) -> Manifest:
        try:
            raw: dict[str, Any] = json.loads(text)
            if raw.get("format") != FORMAT:
                raise BackupError(f"{where}: unknown backup format {raw.get('format')!r}")
            return cls(
                id=str(raw["id"]), kind=raw["kind"], created_at=float(raw["created_at"]),
                schema_revision=str(raw["schema_revision"]), source=str(raw["source"]),
                base=raw.get("base"),
                tables={k: TableEntry(**v) for k, v in raw["tables"].items()},
                recordings=[RecordingEntry(**r) for r in raw["recordings"]],
                missing_recordings=list(raw.get("missing_recordings", [])),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{where}: not a Hotline backup manifest: {exc}") from exc


def backup_id(at: float, kind: Kind) -> str:
    """Folder name: sortable UTC time and kind (`20261201T023000Z-full`)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(at))
    return f"{stamp}-{'full' if kind == 'full' else 'incr'}"


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise BackupError(f"{path}: cannot read: {exc.strerror}") from exc


def write_manifest(folder: Path, manifest: Manifest) -> None:
    tmp = folder / (MANIFEST + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(manifest.to_json())
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, folder / MANIFEST)


def catalog(location: Path) -> list[Manifest]:
    """The whole backups in a location, oldest first (partial folders are ignored)."""
    if not location.is_dir():
        return []
    found = []
    for folder in sorted(location.iterdir()):
        if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        found.append(read_manifest(folder))
    return sorted(found, key=lambda m: (m.created_at, m.id))


def find(location: Path, name: str | None) -> Manifest:
    """The backup named `name` (folder id), or the latest one."""
    backups = catalog(location)
    if not backups:
        raise BackupError(f"{location}: no backups there")
    if name is None:
        return backups[-1]
    for manifest in backups:
        if manifest.id == name:
            return manifest
    raise BackupError(f"{location}: no backup {name!r} (have: {', '.join(m.id for m in backups[-5:])})")
