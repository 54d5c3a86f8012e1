"""Personal data at rest (SQLite and PostgreSQL): customer names and ID numbers and recording
files are stored encrypted, read back clear, found by phone; keys rotate; backups of
encrypted data verify without keys; `hotline keys` on the command line."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from casestore import StoreSettings, open_store
from casestore.backup import create_backup, verify_backup
from casestore.models import CUSTOMERS, RECORDINGS
from casestore.rekey import key_use, rotate_keys
from hotline.cli import main
from hotline.encryption import FieldCipher, Keyring, generate_key
from recordings.store import RecordingError

K1, K2 = generate_key(), generate_key()
AUDIO = b"RIFF$\x00\x00\x00WAVEfmt " + b"\x00" * 4000


def ring(text: str, active: str | None = None) -> Keyring:
    return Keyring.parse(text, active, "test keys")


async def _raw_customer(settings: StoreSettings) -> tuple[str, str]:
    async with open_store(settings) as store, store.engine.connect() as conn:
        name, id_number = (await conn.execute(select(CUSTOMERS.c.name, CUSTOMERS.c.id_number))).one()
    return name, id_number


async def test_customer_fields_and_recordings_are_encrypted_and_rotate(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clear = StoreSettings(url=db_url, data_dir=tmp_path / "data")
    async with open_store(clear) as store:  # data written before encryption was turned on
        await store.cases.upsert_customer("+821011112222", name="Old Clear", id_number="800101-1000000")
        old_recording = await store.recordings.save("c0", AUDIO, "wav")
        writer = store.writer()
        await writer.start(close_orphans=False)
        writer.record_recording("c0", old_recording)
        await writer.stop()

    v1 = replace(clear, keyring=ring(f"k1:{K1}"))
    async with open_store(v1) as store:
        assert (await store.cases.screen_pop("+821011112222")).customer.name == "Old Clear"  # type: ignore[union-attr]
        long_name = "김" * 128  # the clear column's old limit: ciphertext is longer, still stored
        await store.cases.upsert_customer("+821033334444", name=long_name, id_number="900101-2000000")
        pop = await store.cases.screen_pop("+821033334444")
        assert pop is not None and pop.customer.name == long_name and pop.customer.id_number == "900101-2000000"
        info = await store.recordings.save("c1", AUDIO, "wav")
        assert info.uri.endswith(".wav.enc")
        stored = store.recordings.path(info.uri).read_bytes()
        assert b"WAVE" not in stored and info.size == len(stored)
        assert await store.recordings.read(info.uri) == AUDIO
        assert await store.recordings.verify(info)
        writer = store.writer()
        await writer.start(close_orphans=False)
        writer.record_recording("c1", info)
        await writer.stop()
        async with store.engine.connect() as conn:
            rows = (await conn.execute(
                select(CUSTOMERS.c.name, CUSTOMERS.c.id_number).where(CUSTOMERS.c.phone == "+821033334444")
            )).one()
        assert all(v.startswith("enc1:k1:") for v in rows)
        use = await key_use(store.engine, store.recordings)
        assert use.fields == {None: 2, "k1": 2} and use.recordings == {None: 1, "k1": 1}

        # without keys the encrypted fields cannot be read: logged, read as unknown, the
        # lookup (the IVR's directory: tier, language) still answers
        async with open_store(clear) as keyless:
            with caplog.at_level(logging.ERROR, logger="hotline.casestore"):
                pop = await keyless.cases.screen_pop("+821033334444")
            assert pop is not None and (pop.customer.name, pop.customer.id_number) == (None, None)
            assert any("no keys are configured" in r.getMessage() for r in caplog.records)
            with pytest.raises(RecordingError, match="no keys are configured"):
                await keyless.recordings.read(info.uri)

    v2 = replace(clear, keyring=ring(f"k1:{K1},k2:{K2}", active="k2"))
    async with open_store(v2) as store:
        assert store.cases.cipher is not None
        report = await rotate_keys(store.engine, store.recordings, store.cases.cipher)
        assert (report.fields, report.recordings) == (4, 2)
        again = await rotate_keys(store.engine, store.recordings, store.cases.cipher)
        assert (again.fields, again.recordings) == (0, 0)
        use = await key_use(store.engine, store.recordings)
        assert use.fields == {"k2": 4} and use.recordings == {"k2": 2}
        async with store.engine.connect() as conn:
            sizes = dict((await conn.execute(select(RECORDINGS.c.uri, RECORDINGS.c.sha256))).all())
        assert sizes[info.uri] != info.sha256  # the row follows the rewritten file

    only_k2 = replace(clear, keyring=ring(f"k2:{K2}"))  # k1 removed after the rotation
    async with open_store(only_k2) as store:
        pop = await store.cases.screen_pop("+821011112222")
        assert pop is not None and (pop.customer.name, pop.customer.id_number) == ("Old Clear", "800101-1000000")
        assert await store.recordings.read(old_recording.uri) == AUDIO
        assert await store.recordings.read(info.uri) == AUDIO
        manifest = await create_backup(store.engine, store.recordings, tmp_path / "b", "full")
    # the backup holds ciphertext; verifying it needs no key
    assert (await verify_backup(tmp_path / "b", manifest)).ok
    backed_up = next((tmp_path / "b" / manifest.id / "recordings").rglob("*.enc")).read_bytes()
    assert b"WAVE" not in backed_up


async def test_keys_commands(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert await asyncio.to_thread(main, ["keys", "generate", "2026-12"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("2026-12:") and len(Keyring.parse(line, None, "x").keys["2026-12"]) == 32
    assert await asyncio.to_thread(main, ["keys", "generate", "bad id"]) == 1
    capsys.readouterr()

    config = tmp_path / "hotline.yaml"
    config.write_text(f"store: {{url: '{db_url}', data_dir: data}}\nencryption: {{keys_env: HL_TEST_KEYS}}\n")
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path / "data")) as store:
        await store.cases.upsert_customer("+821055556666", name="Clear Name")
    monkeypatch.delenv("HL_TEST_KEYS", raising=False)
    assert await asyncio.to_thread(main, ["keys", "status", "--config", str(config)]) == 1
    assert "HL_TEST_KEYS is not set" in capsys.readouterr().err
    monkeypatch.setenv("HL_TEST_KEYS", line)
    assert await asyncio.to_thread(main, ["keys", "rotate", "--config", str(config)]) == 0
    assert "1 customer fields" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["keys", "status", "--config", str(config)]) == 0
    status = capsys.readouterr().out
    assert "active key: 2026-12" in status and "clear text" not in status
    name, _ = await _raw_customer(StoreSettings(url=db_url, data_dir=tmp_path / "data"))
    assert name.startswith("enc1:2026-12:")
    assert FieldCipher(Keyring.parse(line, None, "x")).decrypt("customers.name", name) == "Clear Name"
