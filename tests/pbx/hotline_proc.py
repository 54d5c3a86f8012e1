"""Hotline itself for the real-PBX tests: `hotline serve` as a process on a generated config.

    hotline = HotlineProcess(folder, api_port=..., ami_port=..., agi_port=..., sip_port=...,
                             recordings=pbx.spool / "monitor" / "hotline")
    hotline.write_config(); hotline.asterisk_parts()     # the files Asterisk includes
    await hotline.start()                                # waits for /health
    await hotline.api("POST", "/api/agents/1001/state", {"action": "login"})
    hotline.rows("select * from calls where id = ?", call_id)   # the case store (SQLite)
    await hotline.stop() / await hotline.kill()          # by PID
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.pbx.peers import spawn

REPO = Path(__file__).resolve().parents[2]
MENU = Path(__file__).with_name("menu.yaml")
ADMIN_LOGIN = "pbx-admin"  # the admin `write_config` adds, with an API token for `api`
AGI_KEY = "pbx-test-key"
AGENTS = ("1001", "1002")  # baresip softphones (1001 answers by itself, 1002 only when told)
LOCAL_AGENTS = tuple(str(2001 + i) for i in range(10))  # Local/ channels that answer (load)


def config_yaml(*, api_port: int, ami_port: int, agi_port: int, sip_port: int, recordings: Path,
                ring_timeout: int = 4, agents: tuple[str, ...] = AGENTS, prompts_dir: Path | None = None,
                announce: float | None = None) -> str:
    agent_lines = "\n".join(
        f'  - {{id: "{a}", name: Agent {a}, skills: {{booking: 5, general: 5, emergency: 5}}}}'
        for a in (*agents, *LOCAL_AGENTS)
    )
    endpoints = ", ".join(f'"{a}": Local/{a}@test-agents' for a in LOCAL_AGENTS)
    announce_key = "" if announce is None else f", announce: {{interval: {announce}}}"
    prompts_key = "" if prompts_dir is None else f"\n  prompts_dir: {prompts_dir}"
    return f"""name: Hotline real-PBX test
acd:
  pause_on_ring_no_answer: false
queues:
  - {{name: booking, skills: {{booking: 1}}, ring_timeout: {ring_timeout + 4}, wrap_up: 0, max_wait: 600}}
  - {{name: general, skills: {{general: 1}}, ring_timeout: {ring_timeout + 4}, wrap_up: 0, max_wait: 600{announce_key}}}
  - {{name: emergency, skills: {{emergency: 1}}, ring_timeout: {ring_timeout + 4}, wrap_up: 0}}
agents:
{agent_lines}
asterisk:
  ami: {{host: 127.0.0.1, port: {ami_port}, username: hotline, secret: hotline-ami-secret,
         connect_timeout: 2, action_timeout: 5, backoff_initial: 0.2, backoff_max: 2}}
  fastagi: {{host: 127.0.0.1, port: {agi_port}, secret: {AGI_KEY}, command_timeout: 60}}
  hotline_numbers: ["1588"]
  endpoints: {{{endpoints}}}
  ring_timeout: {ring_timeout}
  recordings_dir: {recordings}
  speech_dir: {recordings.parent / "speech"}
  sip_bind: 127.0.0.1:{sip_port}
  sounds_prefix: hotline{prompts_key}
  menu: pbx-test
  callback_dial: Local/{{number}}@test-customer
  callback_attempts: 1
  callback_retry_delay: 1
  survey_entry: survey
api:
  host: 127.0.0.1
  port: {api_port}
store:
  data_dir: data
ivr:
  menus: [{MENU}]
  default_menu: pbx-test
"""


class HotlineProcess:
    def __init__(self, folder: Path, *, api_port: int, ami_port: int, agi_port: int, sip_port: int,
                 recordings: Path, ring_timeout: int = 4, agents: tuple[str, ...] = AGENTS) -> None:
        self.folder = folder
        self.api_port = api_port
        self.ami_port = ami_port
        self.agi_port = agi_port
        self.sip_port = sip_port
        self.recordings = recordings
        self.ring_timeout = ring_timeout
        self.agents = agents
        self.config = folder / "hotline.yaml"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.token = ""  # the admin's API token, made by `write_config`
        self.prompts_dir: Path | None = None  # set: Asterisk callers hear synthesized prompts
        self.announce: float | None = None  # set: the general queue announces at this interval

    def _cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotline.cli", *args], cwd=self.folder, capture_output=True,
                              text=True, timeout=120, check=False, input=stdin)

    def write_config(self, text: str | None = None) -> None:
        """The tests' configuration, or `text` (the benchmark's)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.recordings.mkdir(parents=True, exist_ok=True)
        (self.recordings.parent / "speech").mkdir(parents=True, exist_ok=True)
        self.config.write_text(text or config_yaml(
            api_port=self.api_port, ami_port=self.ami_port, agi_port=self.agi_port, sip_port=self.sip_port,
            recordings=self.recordings, ring_timeout=self.ring_timeout, agents=self.agents,
            prompts_dir=self.prompts_dir, announce=self.announce))
        done = self._cli("db", "upgrade", "--config", str(self.config))
        assert done.returncode == 0, done.stderr
        if not self.token:  # one admin and their token per store (`hotline users`)
            done = self._cli("users", "add", ADMIN_LOGIN, "--role", "admin", "--config", str(self.config),
                             stdin="a long pbx admin secret\n")
            assert done.returncode == 0, done.stderr
            done = self._cli("users", "token", ADMIN_LOGIN, "--config", str(self.config))
            assert done.returncode == 0, done.stderr
            self.token = done.stdout.strip()

    def asterisk_parts(self, out: Path) -> dict[str, str]:
        """`hotline asterisk-config --standalone` into `out`; the files it wrote."""
        done = self._cli("asterisk-config", "--config", str(self.config), "--out", str(out), "--standalone")
        assert done.returncode == 0, done.stderr
        return {Path(line).name: Path(line).read_text() for line in done.stdout.split()}

    async def start(self, within: float = 60.0) -> None:
        log = (self.folder / f"serve-{self.starts}.log").open("wb")
        self.starts += 1
        self.proc = spawn(
            [sys.executable, "-m", "hotline.cli", "serve", "--config", str(self.config)], cwd=self.folder,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

        async def healthy() -> None:
            while True:
                assert self.proc is not None and self.proc.poll() is None, self.log()[-3000:]
                try:
                    await self.api("GET", "/health")
                    return
                except (OSError, urllib.error.URLError):
                    await asyncio.sleep(0.2)  # the server is starting: nothing to wait on yet

        await asyncio.wait_for(healthy(), within)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("serve-*.log")))

    async def stop(self, within: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), within)
        except TimeoutError:
            proc.kill()
            await asyncio.to_thread(proc.wait)

    async def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            await asyncio.to_thread(proc.wait)

    # -- API and case store ----------------------------------------------------------------

    async def api(self, method: str, path: str, body: dict[str, Any] | None = None, *, token: str = "") -> Any:
        token = token or self.token
        def call() -> Any:
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.api_port}{path}", data=data, method=method,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")

        return await asyncio.to_thread(call)

    async def agent_state(self, agent_id: str) -> str:
        return str((await self.api("GET", f"/api/agents/{agent_id}"))["state"])

    def rows(self, sql: str, *args: object) -> list[sqlite3.Row]:
        db = sqlite3.connect(self.folder / "data" / "hotline.db", timeout=10)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def call(self, call_id: str) -> sqlite3.Row | None:
        found = self.rows("select * from calls where id = ?", call_id)
        return found[0] if found else None
