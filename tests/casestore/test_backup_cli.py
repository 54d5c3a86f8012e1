"""`hotline backup`, `backup list|verify|run-schedule` and `hotline restore` end to end, on
SQLite and PostgreSQL, with the backup location from the config's `backup:` section."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from casestore import StoreSettings, open_store
from hotline.cli import main
from tests.casestore.traffic import drive, make_acd


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_backup_list_verify_restore_and_schedule(
    db_url: str, empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(
        f"store: {{url: '{db_url}', data_dir: data}}\nbackup: {{location: backups, keep: {{daily: 3}}}}\n",
        encoding="utf-8",
    )
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path / "data")) as store:
        acd, clock = make_acd()
        writer = store.writer()
        await writer.start()
        acd.subscribe(writer.on_event)
        drive(acd, clock, 7)
        info = await store.recordings.save("c1", b"RIFF" * 300, "wav")
        writer.record_recording("c1", info)
        await writer.stop()

    assert await cli("backup", "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert "(full): " in out and "1 recordings" in out
    assert await cli("backup", "--config", str(config), "--incremental") == 0
    assert "(incremental): " in capsys.readouterr().out
    assert await cli("backup", "list", "--config", str(config)) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    assert await cli("backup", "verify", "--config", str(config)) == 0
    assert "match the manifest" in capsys.readouterr().out
    assert await cli("backup", "run-schedule", "--config", str(config)) == 0
    assert "nothing due" in capsys.readouterr().out

    target = empty_url if not empty_url.startswith("sqlite") else f"sqlite+aiosqlite:///{tmp_path}/restored.db"
    assert await cli("restore", "--config", str(config), "--url", target, "--data-dir", str(tmp_path / "r")) == 0
    assert "1 recordings" in capsys.readouterr().out
    async with open_store(StoreSettings(url=target, data_dir=tmp_path / "r")) as restored:
        assert await restored.cases.count("calls") == 7
        assert await restored.recordings.read(info.uri) == b"RIFF" * 300
    # a second restore into the now full database is refused, nothing changed
    assert await cli("restore", "--config", str(config), "--url", target) == 1
    assert "not empty" in capsys.readouterr().err


async def test_backup_without_a_location_names_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text("store: {data_dir: data}\nbackup: {location: b, full: hourly}\n", encoding="utf-8")
    assert await cli("backup", "--config", str(config)) == 1
    assert "backup.full: 'hourly' is not one of" in capsys.readouterr().err
    config.write_text("store: {data_dir: data}\n", encoding="utf-8")
    assert await cli("backup", "list", "--config", str(config)) == 1
    assert "add a `backup:` section or give --location" in capsys.readouterr().err
