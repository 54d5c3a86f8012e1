"""`hotline serve` as a process: starts on a config, serves, reloads menus on SIGHUP, stops."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ADMIN: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers=ADMIN)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _wait_until(predicate: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _hotline(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args], cwd=cwd, capture_output=True, text=True,
        timeout=120, input=stdin,
    )


def test_serve_starts_serves_and_reloads_menus_on_sighup(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "config" / "menus", tmp_path / "menus")
    config = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8"))
    port = _free_port()
    config.pop("speech")
    config["asterisk"]["enabled"] = False
    config["api"]["port"] = port
    config["store"]["data_dir"] = "data"
    (tmp_path / "hotline.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    refused = _hotline("serve", "--config", "hotline.yaml", cwd=tmp_path)
    assert refused.returncode == 2
    assert "hotline db upgrade" in refused.stderr  # no schema yet: a clear message, no start

    upgraded = _hotline("db", "upgrade", "--config", "hotline.yaml", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    password = "a long admin secret 1"
    added = _hotline(
        "users", "add", "ada", "--role", "admin", "--config", "hotline.yaml", cwd=tmp_path,
        stdin=password + "\n",
    )
    assert added.returncode == 0, added.stderr
    token = _hotline("users", "token", "ada", "--config", "hotline.yaml", cwd=tmp_path)
    assert token.returncode == 0, token.stderr
    ADMIN["Authorization"] = f"Bearer {token.stdout.strip()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "serve", "--config", "hotline.yaml", "--log-level", "info"],
        cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _get(f"{base}/healthz")["status"] == "alive")
        menus = _get(f"{base}/api/menus")["menus"]
        assert menus[0]["active_version"] == 1

        menu = tmp_path / "menus" / "airline.yaml"
        menu.write_text(menu.read_text(encoding="utf-8").replace("next: disruption", "next: nowhere", 1))
        server.send_signal(signal.SIGHUP)
        _wait_until(lambda: "menu not activated" in log.read_text(encoding="utf-8"))
        assert _get(f"{base}/api/menus")["menus"][0]["active_version"] == 1

        menu.write_text(
            menu.read_text(encoding="utf-8")
            .replace("next: nowhere", "next: disruption", 1)
            .replace("Thank you for calling SkyRail Air.", "Welcome to SkyRail Air.")
        )
        server.send_signal(signal.SIGHUP)
        _wait_until(lambda: _get(f"{base}/api/menus")["menus"][0]["active_version"] == 2)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    output = log.read_text(encoding="utf-8")
    assert "nowhere" in output
    assert "+8210" not in output  # no caller numbers unmasked in the log
    entries = [json.loads(line) for line in output.splitlines()]  # not a terminal: JSON lines
    assert any(e["logger"] == "hotline.menus" and e["level"] == "info" for e in entries)
    assert not [e for e in entries if e["level"] == "debug"]  # --log-level info
    assert password not in output and password not in added.stdout + added.stderr
    assert "/setup?token=" not in output  # an admin exists: no setup link


def test_serve_refuses_a_bad_logging_section_naming_file_and_key(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8"))
    config["logging"] = {"level": "info", "levels": {"hotline.twilio": "verbose"}}
    (tmp_path / "hotline.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    refused = _hotline("serve", "--config", "hotline.yaml", cwd=tmp_path)
    assert refused.returncode == 2
    assert re.search(r"hotline.yaml:\d+: logging.levels.hotline.twilio: .verbose. is not one of", refused.stderr)
    assert "Traceback" not in refused.stderr


def test_a_fresh_install_serves_and_prints_a_one_time_setup_link(tmp_path: Path) -> None:
    import http.cookiejar
    import re
    import urllib.error

    shutil.copytree(ROOT / "config" / "menus", tmp_path / "menus")
    config = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8"))
    port = _free_port()
    config.pop("speech")
    config["asterisk"]["enabled"] = False
    config["api"]["port"] = port
    config["store"]["data_dir"] = "data"
    (tmp_path / "hotline.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert _hotline("db", "upgrade", "--config", "hotline.yaml", cwd=tmp_path).returncode == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "serve", "--config", "hotline.yaml"],
        cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
    )
    try:
        _wait_until(lambda: "/setup?token=" in log.read_text(encoding="utf-8"))
        found = re.search(r"http://localhost:(\d+)/setup\?token=(\S+)", log.read_text(encoding="utf-8"))
        assert found is not None and int(found.group(1)) == port
        token = found.group(2)
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        _wait_until(lambda: browser.open(f"{base}/setup?token={token}", timeout=5).status == 200)
        csrf = next(c.value for c in jar if c.name == "hotline_csrf")
        body = json.dumps({"token": token, "login": "ada", "name": "Ada", "password": "a long admin secret 1"})
        request = urllib.request.Request(
            f"{base}/api/setup", data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
        )
        with browser.open(request, timeout=5) as response:
            assert json.loads(response.read())["user"]["role"] == "admin"
        stranger = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        try:
            stranger.open(f"{base}/setup?token={token}", timeout=5)
            raise AssertionError("the setup link worked twice")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403 and "setup-closed" in exc.read().decode()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert "a long admin secret 1" not in log.read_text(encoding="utf-8")


def test_an_old_config_with_sample_tokens_is_refused_with_what_to_run(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "config" / "menus", tmp_path / "menus")
    config = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8"))
    config["api"]["tokens"] = {"change-me-admin": "admin", "change-me-agent-1001": {"role": "agent", "agent": "1001"}}
    (tmp_path / "hotline.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    refused = _hotline("serve", "--config", "hotline.yaml", cwd=tmp_path)
    assert refused.returncode == 2
    assert "hotline.yaml: api.tokens holds the sample secrets" in refused.stderr
    assert "hotline users add" in refused.stderr and "hotline users token" in refused.stderr
    assert "Traceback" not in refused.stderr
