"""`hotline users`: add, list, passwd, disable/enable, token; passwords from stdin, never argv,
never echoed."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest

from casestore.store import open_store
from hotline.cli import main
from hotline.passwords import verify_password

SECRET = "Velvet-Harbor-Lantern-7"


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"

    async def create() -> None:
        async with open_store(url, create=True):
            pass

    asyncio.run(create())
    return url


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["users", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _credentials(url: str, login: str) -> tuple[bool, str | None]:
    async def read() -> tuple[bool, str | None]:
        async with open_store(url) as store:
            found = await store.accounts.credentials(login)
            assert found is not None
            return found[0].disabled, found[1]

    return asyncio.run(read())


def test_add_list_passwd_disable(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(monkeypatch, capsys, "add", "kim", "--role", "agent", "--agent", "1001", "--name", "Kim Minji", "--url", url, stdin=SECRET + "\n")
    assert (code, out.strip()) == (0, "added agent kim (agent 1001)"), err
    assert SECRET not in out + err
    disabled, password_hash = _credentials(url, "kim")
    assert not disabled and verify_password(password_hash, SECRET)

    code, out, _ = _run(monkeypatch, capsys, "list", "--url", url)
    assert code == 0 and "kim" in out and "1001" in out and "Kim Minji" in out

    code, out, _ = _run(monkeypatch, capsys, "passwd", "kim", "--url", url, stdin=SECRET + "-new\n")
    assert code == 0
    assert verify_password(_credentials(url, "kim")[1], SECRET + "-new")

    assert _run(monkeypatch, capsys, "disable", "kim", "--url", url)[0] == 0
    assert _credentials(url, "kim")[0] is True
    assert _run(monkeypatch, capsys, "enable", "kim", "--url", url)[0] == 0
    assert _credentials(url, "kim")[0] is False

    code, out, _ = _run(monkeypatch, capsys, "token", "kim", "--days", "5", "--url", url)
    assert code == 0 and out.startswith("hlt_")


def test_refusals_are_clear(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, "add", "ada", "--role", "admin", "--url", url, stdin="short\n")
    assert code == 2 and "at least 10 characters" in err
    code, _, err = _run(monkeypatch, capsys, "add", "ada", "--role", "admin", "--url", url, stdin="change-me-admin\n")
    assert code == 2 and "sample" in err
    code, _, err = _run(monkeypatch, capsys, "add", "kim", "--role", "agent", "--url", url, stdin=SECRET + "\n")
    assert code == 1 and "agent id" in err  # an agent needs --agent
    assert _run(monkeypatch, capsys, "add", "ada", "--role", "admin", "--url", url, stdin=SECRET + "\n")[0] == 0
    code, _, err = _run(monkeypatch, capsys, "add", "ada", "--role", "admin", "--url", url, stdin=SECRET + "\n")
    assert code == 1 and "taken" in err
    code, _, err = _run(monkeypatch, capsys, "passwd", "nobody", "--url", url, stdin=SECRET + "\n")
    assert code == 1 and "no user" in err
    code, _, err = _run(monkeypatch, capsys, "disable", "ada", "--url", url)
    assert code == 1 and "last enabled admin" in err
    code, _, err = _run(monkeypatch, capsys, "token", "ada", "--days", "9999", "--url", url)
    assert code == 1 and "days" in err


def test_the_password_is_not_an_argument() -> None:
    with pytest.raises(SystemExit):
        main(["users", "add", "ada", "--role", "admin", "--password", SECRET])
