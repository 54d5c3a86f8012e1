"""A start refused after some parts started (a FastAGI port already taken): one clear line,
exit status 1, and no asyncio teardown tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp_path: Path, **changes: object) -> Path:
    config = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8"))
    config.pop("speech")
    config["ivr"]["menus"] = [str(ROOT / "config" / m) for m in config["ivr"]["menus"]]
    config["store"]["data_dir"] = str(tmp_path / "data")
    config["api"]["port"] = _free_port()
    config["asterisk"]["ami"]["port"] = _free_port()
    config.update(changes)
    path = tmp_path / "hotline.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _hotline(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args], capture_output=True, text=True, timeout=120,
        env=env,
    )


def test_taken_fastagi_port_refuses_the_start_without_tracebacks(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        path = _config(tmp_path)
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        config["asterisk"]["fastagi"]["port"] = taken.getsockname()[1]
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        assert _hotline("db", "upgrade", "--config", str(path)).returncode == 0
        result = _hotline("serve", "--config", str(path))
    assert result.returncode == 1
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert "asynchronous generator" not in result.stderr


def test_bad_config_refuses_the_start_before_anything_listens(tmp_path: Path) -> None:
    path = _config(tmp_path)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    agi_port = _free_port()
    config["asterisk"]["fastagi"]["port"] = agi_port
    config["api"]["port"] = 99999
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = _hotline("serve", "--config", str(path))
    assert result.returncode == 2
    assert "api.port: 99999 is out of range" in result.stderr
    assert "Traceback" not in result.stderr
    assert "FastAGI listening" not in result.stderr


def test_port_option_is_checked() -> None:
    result = _hotline("serve", "--port", "99999")
    assert result.returncode == 2
    assert "99999 is not a port 1-65535" in result.stderr
