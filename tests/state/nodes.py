"""`hotline serve` processes on loopback against the fake Asterisk (in the test's loop): the
configuration they share, starting, killing and asking them over the API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MENU = ROOT / "tests" / "asterisk" / "menu.yaml"
ADMIN: dict[str, str] = {}  # an API token of the admin `upgrade` adds
AGENT_IDS = [f"{1001 + i}" for i in range(6)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, *, ami_port: int, api_port: int, agi_port: int, store_url: str,
                 state: dict[str, Any] | None = None, ring_timeout: float = 30,
                 monitor: Path | None = None) -> Path:
    config = {
        "name": "durability test",
        "queues": [
            {"name": "booking", "skills": {"booking": 1}, "ring_timeout": ring_timeout, "wrap_up": 0},
        ],
        "agents": [{"id": a, "name": f"Agent {a}", "skills": {"booking": 5}} for a in AGENT_IDS],
        "ivr": {"menus": [str(MENU)]},
        "asterisk": {
            "ami": {"host": "127.0.0.1", "port": ami_port, "username": "hotline", "secret": "secret",
                    "backoff_initial": 0.05, "backoff_max": 0.2},
            "fastagi": {"host": "127.0.0.1", "port": agi_port},
            "menu": "asterisk-test",
            "recordings_dir": str(monitor or folder / "monitor"),
            "speech_dir": str(folder / "speech"),
        },
        "api": {"host": "127.0.0.1", "port": api_port},
        "store": {"url": store_url, "data_dir": str(folder / "data")},
    }
    if state is not None:
        config["state"] = state
    path = folder / "hotline.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@dataclass
class Node:
    name: str
    config: Path
    api_port: int
    agi_port: int
    log: Path
    process: subprocess.Popen[str] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.extra_env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "serve", "--config", str(self.config)],
            cwd=self.config.parent, env=env, stdout=self.log.open("a"), stderr=subprocess.STDOUT, text=True,
        )

    def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def pause(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def request(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, anonymous: bool = False
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {} if anonymous else dict(ADMIN)
        if data is not None:
            headers["Content-Type"] = "application/yaml" if raw is not None else "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, (status, body)
        return body

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def until(predicate: Callable[[], Any], within: float = 30.0, what: str = "condition") -> Any:
    """Poll `predicate` (HTTP to another process: nothing to wait on but the answer)."""
    deadline = time.monotonic() + within
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = await asyncio.to_thread(predicate)
            if value:
                return value
        except (OSError, AssertionError, KeyError, ValueError) as exc:
            last = exc
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not met in {within} s (last error: {last!r})")


def _cli(config: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args, "--config", str(config)],
        cwd=config.parent, capture_output=True, text=True, timeout=120, input=stdin,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def upgrade(config: Path) -> None:
    """`hotline db upgrade`, then an admin and an API token of theirs for `Node.request`."""
    _cli(config, "db", "upgrade")
    _cli(config, "users", "add", "ada", "--role", "admin", stdin="a long admin secret 1\n")
    ADMIN["Authorization"] = f"Bearer {_cli(config, 'users', 'token', 'ada').strip()}"
