"""A filesystem recording store.

Files live under `root/YYYY/MM/DD/<call id>-<digest prefix>.<format>`; a recording is named
by a URI relative to the root (`rec:2026/11/23/call-1-ab12cd34.wav`), so the root can move.
Disk work runs in a thread (`asyncio.to_thread`); the event loop never waits on the disk.

With a keyring (`encryption:` with `recordings: true`, docs/security.md) files are stored
encrypted (`.<format>.enc`, hotline.encrypted_files); `read`/`open` give the clear audio.
`size` and `sha256` describe the stored file, so backups and `verify` need no key.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import shutil
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hotline.encrypted_files import decrypt_stream, encrypt_bytes, encrypt_stream, is_encrypted
from hotline.encryption import Keyring

YEAR = 365.25 * 24 * 3600
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_FORMAT = re.compile(r"^[a-z0-9]{1,8}$")


class RecordingError(Exception):
    pass


class RecordingNotFound(RecordingError):
    pass


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    uri: str
    format: str
    size: int
    sha256: str
    duration: float | None
    created_at: float
    retain_until: float


class FilesystemRecordingStore:
    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        retention_years: float = 3.0,
        clock: Callable[[], float] | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self.root = Path(root)
        self.retention_years = retention_years
        self._now = clock or time.time
        self.keyring = keyring if keyring is not None and keyring.recordings else None
        self._readers = keyring  # decrypts files even when new ones are stored in clear

    # -- public, async -------------------------------------------------------------------

    async def save(self, call_id: str, data: bytes, format: str = "wav") -> RecordingInfo:
        """Store `data` as a recording of `call_id`."""
        return await asyncio.to_thread(self._save_bytes, call_id, data, format)

    async def import_file(
        self, call_id: str, source: str | os.PathLike[str], *, move: bool = False, format: str | None = None
    ) -> RecordingInfo:
        """Take over a file another program wrote (Asterisk MixMonitor, a Twilio download)."""
        return await asyncio.to_thread(self._import, call_id, Path(source), move, format)

    async def read(self, uri: str) -> bytes:
        """The recording's audio (decrypted if it is stored encrypted)."""
        return await asyncio.to_thread(self._read_clear, uri)

    async def delete(self, uri: str) -> bool:
        """Remove a recording's file; False if it was already gone."""
        return await asyncio.to_thread(self._delete, uri)

    async def verify(self, info: RecordingInfo) -> bool:
        """The file is there and its sha256 matches."""
        try:
            digest, _ = await asyncio.to_thread(_digest, self.path(info.uri))
        except FileNotFoundError:
            return False
        return digest == info.sha256

    # -- public, sync --------------------------------------------------------------------

    def open(self, uri: str) -> BinaryIO:
        """Open a recording's audio for reading (blocking: call from a thread or a sync context)."""
        try:
            f = self.path(uri).open("rb")
        except FileNotFoundError as exc:
            raise RecordingNotFound(uri) from exc
        if not is_encrypted(f.read(len(b"HLENC1\n"))):
            f.seek(0)
            return f
        with f:
            f.seek(0)
            return io.BytesIO(self._decrypt(f))

    def _decrypt(self, f: BinaryIO) -> bytes:
        if self._readers is None:
            raise RecordingError("recording is encrypted and no keys are configured (encryption: section)")
        out = io.BytesIO()
        decrypt_stream(self._readers, f, out)
        return out.getvalue()

    def _read_clear(self, uri: str) -> bytes:
        with self.open(uri) as f:
            return f.read()

    def path(self, uri: str) -> Path:
        if not uri.startswith("rec:"):
            raise RecordingError(f"not a recording URI: {uri!r}")
        relative = Path(uri[4:])
        if relative.is_absolute() or ".." in relative.parts:
            raise RecordingError(f"recording URI escapes the store: {uri!r}")
        return self.root / relative

    # -- workers (run in a thread) -------------------------------------------------------

    def _target(self, call_id: str, fmt: str, digest: str, now: float) -> tuple[str, Path]:
        if not _FORMAT.match(fmt):
            raise RecordingError(f"bad recording format {fmt!r}")
        day = time.strftime("%Y/%m/%d", time.gmtime(now))
        suffix = ".enc" if self.keyring is not None else ""
        name = f"{_SAFE.sub('_', call_id)[:80]}-{digest[:12]}.{fmt}{suffix}"
        uri = f"rec:{day}/{name}"
        return uri, self.path(uri)

    def _info(self, uri: str, fmt: str, size: int, digest: str, duration: float | None, now: float) -> RecordingInfo:
        return RecordingInfo(
            uri=uri, format=fmt, size=size, sha256=digest, duration=duration,
            created_at=now, retain_until=now + self.retention_years * YEAR,
        )

    def _save_bytes(self, call_id: str, data: bytes, fmt: str) -> RecordingInfo:
        now = self._now()
        duration = _duration(io.BytesIO(data), fmt)
        if self.keyring is not None:
            data = encrypt_bytes(self.keyring, data)
        digest = hashlib.sha256(data).hexdigest()
        uri, path = self._target(call_id, fmt, digest, now)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self._info(uri, fmt, len(data), digest, duration, now)

    def _import(self, call_id: str, source: Path, move: bool, fmt: str | None) -> RecordingInfo:
        if not source.is_file():
            raise RecordingNotFound(str(source))
        fmt = fmt or source.suffix.lstrip(".").lower() or "bin"
        now = self._now()
        with source.open("rb") as f:
            duration = _duration(f, fmt)
        if self.keyring is not None:
            return self._import_encrypted(call_id, source, move, fmt, duration, now)
        digest, size = _digest(source)
        uri, path = self._target(call_id, fmt, digest, now)
        path.parent.mkdir(parents=True, exist_ok=True)
        if move:
            shutil.move(source, path)
        else:
            shutil.copyfile(source, path)
        return self._info(uri, fmt, size, digest, duration, now)

    def _import_encrypted(
        self, call_id: str, source: Path, move: bool, fmt: str, duration: float | None, now: float
    ) -> RecordingInfo:
        assert self.keyring is not None
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".part-")
        try:
            with source.open("rb") as src, os.fdopen(fd, "wb") as out:
                encrypt_stream(self.keyring, src, out)
                out.flush()
                os.fsync(out.fileno())
            digest, size = _digest(Path(tmp))
            uri, path = self._target(call_id, fmt, digest, now)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if move:
            source.unlink()
        return self._info(uri, fmt, size, digest, duration, now)

    def _delete(self, uri: str) -> bool:
        try:
            self.path(uri).unlink()
        except FileNotFoundError:
            return False
        return True


def _digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _duration(audio: BinaryIO, fmt: str) -> float | None:
    if fmt != "wav":
        return None
    try:
        with wave.open(audio, "rb") as w:
            rate = w.getframerate()
            return w.getnframes() / rate if rate else None
    except (wave.Error, EOFError):
        return None
