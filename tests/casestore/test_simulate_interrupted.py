"""`hotline simulate --store` stopped by SIGTERM (or Ctrl-C) closes its run's open calls."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _calls(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        total, still_open = conn.execute("SELECT count(*), count(*) - count(ended_at) FROM calls").fetchone()
    return int(total), int(still_open)


def _wait_for_calls(db: Path, child: subprocess.Popen[str], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if _calls(db)[1] > 0:
                return
        except sqlite3.Error:
            pass  # the schema is still being created
        time.sleep(0.1)
    raise AssertionError("the simulation wrote no open call in time")


def test_sigterm_closes_the_runs_open_calls(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "simulate", str(ROOT / "config" / "simulation" / "airline.yaml"),
         "--store", f"sqlite+aiosqlite:///{db}", "--speed", "600"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for_calls(db, child)
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "open calls closed as interrupted" in err
    total, still_open = _calls(db)
    assert total > 0 and still_open == 0
