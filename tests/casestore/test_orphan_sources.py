"""Open calls of a previous run: closed only for this server's sources; a killed simulation's
calls closed by `hotline db close-orphans`; SQLite URL typos create nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from acd.clock import VirtualClock
from casestore import StoreSettings, open_store
from casestore.errors import StoreUnavailable
from casestore.models import CALLS
from casestore.store import Store, attached_store
from hotline.cli import main
from hotline.config import load_config
from hotline.wiring import build_app
from tests.casestore.test_writer import make_acd

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"


async def _open_calls(store: Store, sources: list[str]) -> None:
    writer = store.writer()
    await writer.start(close_orphans=False)
    for source in sources:
        writer.record_call_start(f"{source}-1", source=source, at=1_800_000_000.0)
    await writer.stop()  # flushed, never ended: what a killed run leaves


async def _still_open(store: Store) -> set[str]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(CALLS.c.source).where(CALLS.c.ended_at.is_(None)))
        return {row.source for row in rows}


async def test_start_closes_only_its_own_sources(db_url: str, tmp_path: Path) -> None:
    settings = StoreSettings(url=db_url, data_dir=tmp_path / "data")
    async with open_store(settings) as store:
        await _open_calls(store, ["asterisk", "twilio", "simulation"])
    acd, _clock = make_acd()
    async with attached_store(settings, acd, sources=["asterisk"], agents=[]) as store:
        assert await _still_open(store) == {"twilio", "simulation"}


async def test_serve_keeps_another_writers_live_calls(db_url: str, tmp_path: Path) -> None:
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path)) as store:
        await _open_calls(store, ["simulation", "twilio"])
    app = build_app(load_config(CONFIG), clock=VirtualClock(1_800_000_000.0), store_url=db_url,
                    speech=False, asterisk=False)  # twilio disabled in the sample: no sources
    async with TestClient(TestServer(app)):
        pass
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path)) as store:
        assert await _still_open(store) == {"simulation", "twilio"}


async def test_close_orphans_command_closes_a_killed_simulations_calls(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = StoreSettings(url=db_url, data_dir=tmp_path)
    async with open_store(settings) as store:
        await _open_calls(store, ["simulation", "asterisk"])
    argv = ["db", "close-orphans", "--source", "simulation", "--url", db_url, "--config", "missing.yaml"]
    assert await asyncio.to_thread(main, argv) == 0
    assert "closed 1 open calls of simulation" in capsys.readouterr().out
    async with open_store(settings) as store:
        assert await _still_open(store) == {"asterisk"}


async def test_sqlite_url_typos_create_no_files_or_folders(tmp_path: Path) -> None:
    typo = tmp_path / "vra" / "lib" / "hotline.db"
    with pytest.raises(StoreUnavailable, match="no database at"):
        async with open_store(f"sqlite+aiosqlite:///{typo}"):
            pass
    with pytest.raises(StoreUnavailable, match=r"folder .* does not exist"):
        async with open_store(f"sqlite+aiosqlite:///{typo}", create=True):
            pass
    assert not (tmp_path / "vra").exists()


def test_db_upgrade_creates_the_database_and_its_own_folder_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}"
    assert main(["db", "upgrade", "--url", url, "--config", "missing.yaml"]) == 0
    assert (tmp_path / "data" / "hotline.db").is_file()
    deep = f"sqlite+aiosqlite:///{tmp_path / 'a' / 'b' / 'hotline.db'}"
    assert main(["db", "upgrade", "--url", deep, "--config", "missing.yaml"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
