"""`hotline serve` runs the backup schedule: a backup at start when none is there yet,
verified; a failing location is logged and the server keeps serving."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from casestore.backup.manifest import catalog
from casestore.store import open_store
from hotline.backup_service import BACKUP_KEY
from hotline.config import ConfigError, load_config, parse_config
from hotline.wiring import build_app

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, location: Path) -> Path:
    text = (ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8")
    text = text.replace("  menus: [menus/airline.yaml]", f"  menus: [{ROOT / 'config' / 'menus' / 'airline.yaml'}]")
    path = tmp_path / "hotline.yaml"
    path.write_text(text + f"\nbackup: {{location: '{location}', verify: true}}\n", encoding="utf-8")
    return path


async def test_serve_makes_the_due_backup_and_verifies_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    app = build_app(load_config(_config(tmp_path, tmp_path / "backups")), store_url=url, speech=False, asterisk=False)
    async with TestClient(TestServer(app)) as client:
        service = client.server.app[BACKUP_KEY]
        await asyncio.wait_for(service.passed.wait(), 60)
        assert service.last is not None and service.last.backup is not None
        assert service.last.backup.kind == "full"
        assert service.last.verify is not None and service.last.verify.ok
        assert [m.id for m in catalog(tmp_path / "backups")] == [service.last.backup.id]
        assert (await client.get("/health")).status == 200


async def test_a_failing_backup_is_logged_and_the_server_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    app = build_app(load_config(_config(tmp_path, blocker)), store_url=url, speech=False, asterisk=False)
    with caplog.at_level(logging.ERROR, logger="hotline.backup"):
        async with TestClient(TestServer(app)) as client:
            service = client.server.app[BACKUP_KEY]
            await asyncio.wait_for(service.passed.wait(), 60)
            assert service.last is None
            assert (await client.get("/health")).status == 200
    assert any("backup to" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


def test_a_bad_backup_section_refuses_the_start() -> None:
    with pytest.raises(ConfigError, match=r"hotline.yaml: backup.keep.weekly: -1 is out of range"):
        parse_config({"backup": {"location": "b", "keep": {"weekly": -1}}}, Path("hotline.yaml"))
