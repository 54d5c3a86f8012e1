from __future__ import annotations

from pathlib import Path

import pytest

from hotline.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"


def test_urls_of_the_sample_config(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    assert main(["twilio", "urls", "--config", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "https://hotline.example.com/twilio/voice" in out
    assert "https://hotline.example.com/twilio/status" in out
    assert "wss://hotline.example.com/twilio/stream" in out
    assert "disabled" in out and "1004: client agent-1004" in out
    assert "secret" not in out


def test_invalid_section_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text("twilio:\n  account_sid: AC1\n  auth_token: t\n  public_url: https://h\n", encoding="utf-8")
    assert main(["twilio", "urls", "--config", str(config)]) == 2
    assert "twilio.account_sid" in capsys.readouterr().err
