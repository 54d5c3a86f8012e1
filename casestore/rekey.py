"""`rotate_keys`: bring every encrypted value under the active key (docs/security.md).

Customer names and ID numbers in clear text or under an older key are re-encrypted with the
active key; recording files likewise (each rewritten to a temporary file and renamed; the
row's size and SHA-256 follow). Work goes in chunks of ids, one transaction each, so it can
stop and resume; values already under the active key are left alone. After it has run, keys
no longer listed by `hotline keys status` can be removed from the key variable.
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.backup.create import Progress, no_progress
from casestore.dialect import writing
from casestore.models import CUSTOMERS, RECORDINGS
from casestore.repository import ID_FIELD, NAME_FIELD
from hotline.encrypted_files import MAGIC, decrypt_stream, encrypt_stream, file_key_id, is_encrypted
from hotline.encryption import FieldCipher, field_key_id
from recordings.store import FilesystemRecordingStore, _digest

CHUNK = 500


@dataclass
class KeyUse:
    """Which keys the stored data is under (`None`: clear text)."""

    fields: Counter[str | None] = field(default_factory=Counter)
    recordings: Counter[str | None] = field(default_factory=Counter)
    missing_files: int = 0


@dataclass
class RotateReport:
    fields: int = 0
    recordings: int = 0
    missing_files: int = 0


def _file_key(path: Path) -> str | None:
    with path.open("rb") as f:
        if not is_encrypted(f.read(len(MAGIC))):
            return None
        f.seek(0)
        return file_key_id(f)


async def key_use(engine: AsyncEngine, recordings: FilesystemRecordingStore) -> KeyUse:
    use = KeyUse()
    async with engine.connect() as conn:
        rows = await conn.execute(select(CUSTOMERS.c.name, CUSTOMERS.c.id_number))
        for name, id_number in rows:
            for value in (name, id_number):
                if value is not None:
                    use.fields[field_key_id(value)] += 1
        uris = (await conn.execute(select(RECORDINGS.c.uri))).scalars().all()
    for uri in uris:
        try:
            use.recordings[await asyncio.to_thread(_file_key, recordings.path(uri))] += 1
        except FileNotFoundError:
            use.missing_files += 1
    return use


async def rotate_keys(
    engine: AsyncEngine, recordings: FilesystemRecordingStore, cipher: FieldCipher,
    *, progress: Progress = no_progress,
) -> RotateReport:
    report = RotateReport()
    report.fields = await _rotate_customers(engine, cipher, progress)
    if cipher.keyring.recordings:
        report.recordings, report.missing_files = await _rotate_recordings(engine, recordings, cipher, progress)
    return report


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _rotate_customers(engine: AsyncEngine, cipher: FieldCipher, progress: Progress) -> int:
    changed = seen = 0
    last = 0
    total = await _count(engine, CUSTOMERS)
    progress("customers", 0, total)
    while True:
        async with writing(engine).begin() as conn:
            rows = (await conn.execute(
                select(CUSTOMERS.c.id, CUSTOMERS.c.name, CUSTOMERS.c.id_number)
                .where(CUSTOMERS.c.id > last, or_(CUSTOMERS.c.name.is_not(None), CUSTOMERS.c.id_number.is_not(None)))
                .order_by(CUSTOMERS.c.id).limit(CHUNK)
            )).all()
            for row_id, name, id_number in rows:
                values = {}
                if cipher.needs_rotation(name):
                    values["name"] = cipher.encrypt(NAME_FIELD, cipher.decrypt(NAME_FIELD, name))
                if cipher.needs_rotation(id_number):
                    values["id_number"] = cipher.encrypt(ID_FIELD, cipher.decrypt(ID_FIELD, id_number))
                if values:
                    await conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == row_id).values(**values))
                    changed += len(values)
        seen += len(rows)
        progress("customers", min(seen, total), total)
        if len(rows) < CHUNK:
            progress("customers", total, total)
            return changed
        last = rows[-1][0]


async def _rotate_recordings(
    engine: AsyncEngine, recordings: FilesystemRecordingStore, cipher: FieldCipher, progress: Progress
) -> tuple[int, int]:
    changed = missing = seen = 0
    last = 0
    total = await _count(engine, RECORDINGS)
    progress("recordings", 0, total)
    while True:
        async with engine.connect() as conn:
            rows = (await conn.execute(
                select(RECORDINGS.c.id, RECORDINGS.c.uri).where(RECORDINGS.c.id > last)
                .order_by(RECORDINGS.c.id).limit(CHUNK)
            )).all()
        for row_id, uri in rows:
            seen += 1
            progress("recordings", min(seen, total), total)
            try:
                done = await asyncio.to_thread(_reencrypt, recordings.path(uri), cipher)
            except FileNotFoundError:
                missing += 1
                continue
            if done is None:
                continue
            digest, size = done
            async with writing(engine).begin() as conn:
                await conn.execute(update(RECORDINGS).where(RECORDINGS.c.id == row_id).values(sha256=digest, size=size))
            changed += 1
        if len(rows) < CHUNK:
            return changed, missing
        last = rows[-1][0]


def _reencrypt(path: Path, cipher: FieldCipher) -> tuple[str, int] | None:
    """Rewrite one file under the active key; (sha256, size) of the new file, None if it was."""
    keyring = cipher.keyring
    if _file_key(path) == keyring.active:
        return None
    clear = io.BytesIO()  # the clear audio stays in memory, never on disk
    with path.open("rb") as src:
        if _file_key(path) is None:
            clear.write(src.read())
        else:
            decrypt_stream(keyring, src, clear)
    clear.seek(0)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rekey-")
    try:
        with os.fdopen(fd, "wb") as out:
            encrypt_stream(keyring, clear, out)
            out.flush()
            os.fsync(out.fileno())
        result = _digest(Path(tmp))
        os.replace(tmp, path)
        return result
    finally:
        Path(tmp).unlink(missing_ok=True)
