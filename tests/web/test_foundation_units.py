"""Units of the web foundation: sign-in throttle, strings catalogue, settings (the refusal of
static tokens), language choice."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from aiohttp.test_utils import make_mocked_request

from hotline.config import ConfigError
from hotline.web.base.i18n import Catalogue, choose_language
from hotline.web.base.pages import safe_next
from hotline.web.base.settings import (
    WEB_SECTION_SCHEMA,
    parse_api_section,
    parse_web_section,
)
from hotline.web.base.throttle import LoginThrottle
from hotline.web.setup import FEATURES


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_locks_a_login_after_repeated_failures_then_lets_it_go() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, max_failures=3, window=60, lockout=120)
    for _ in range(2):
        throttle.failed("Kim", "10.0.0.1")
    assert throttle.retry_after("kim", "10.0.0.1") is None
    throttle.failed("kim", "10.0.0.2")  # the third failure of this login, from anywhere
    assert throttle.retry_after("KIM", "10.0.0.9") == 120
    assert throttle.retry_after("lee", "10.0.0.9") is None  # other logins are not locked
    clock.now += 119
    assert throttle.retry_after("kim", "x") == pytest.approx(1)
    clock.now += 2
    assert throttle.retry_after("kim", "x") is None


def test_throttle_forgets_failures_outside_the_window_and_after_success() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, max_failures=3, window=60, lockout=120)
    throttle.failed("kim", "a")
    throttle.failed("kim", "a")
    clock.now += 61
    throttle.failed("kim", "a")
    assert throttle.retry_after("kim", "a") is None
    throttle.failed("kim", "a")
    throttle.succeeded("kim")
    throttle.failed("kim", "a")
    assert throttle.retry_after("kim", "a") is None


def test_throttle_locks_an_address_trying_many_logins() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, max_failures=3, window=60, lockout=120)
    for n in range(12):
        throttle.failed(f"user{n}", "10.9.9.9")
    assert throttle.retry_after("someone-else", "10.9.9.9") == 120
    assert throttle.retry_after("someone-else", "10.1.1.1") is None


def test_both_catalogues_have_the_same_keys() -> None:
    catalogue = Catalogue.load(f"hotline.web.{f}" for f in FEATURES)
    assert catalogue.strings["en"], "no strings loaded"
    assert set(catalogue.strings["en"]) == set(catalogue.strings["ko"])
    for feature in FEATURES:
        for lang in ("en", "ko"):
            path = resources.files(f"hotline.web.{feature}") / f"strings.{lang}.json"
            if path.is_file():
                keys = json.loads(path.read_text(encoding="utf-8"))
                assert all(k.startswith(f"{feature}.") for k in keys), (feature, lang)
    assert catalogue.text("ko", "home.agent.since", seconds=3) == "3초째"
    assert catalogue.text("en", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        ("ko-KR,ko;q=0.9,en;q=0.8", "", "ko"),
        ("en-US,en;q=0.9,ko;q=0.5", "", "en"),
        ("fr-FR, de;q=0.5", "", "en"),
        ("ko;q=0.2, en;q=0.9", "", "en"),
        ("en", "?lang=ko", "ko"),
        ("ko;q=bogus", "", "ko"),
    ],
)
def test_language_choice(header: str, query: str, expected: str) -> None:
    request = make_mocked_request("GET", f"/{query}", headers={"Accept-Language": header})
    assert choose_language(request, None, "en") == expected


def test_static_tokens_in_the_config_are_refused_with_what_to_run() -> None:
    with pytest.raises(ConfigError) as info:
        parse_api_section({"host": "127.0.0.1", "tokens": {"change-me-admin": "admin"}})
    message = str(info.value)
    assert "change-me-admin" in message and "hotline users add" in message and "hotline users token" in message
    with pytest.raises(ConfigError, match="hotline users add"):
        parse_api_section({"tokens": {"s3cr3t-long-token": "admin"}})


def test_web_settings_are_checked_with_key_paths() -> None:
    assert parse_web_section({}).session_idle_timeout == 1800
    with pytest.raises(ConfigError, match=r"web\.login_throttle\.max_failures"):
        parse_web_section({"login_throttle": {"max_failures": 0}})
    with pytest.raises(ConfigError, match=r"web\.session_idel_timeout"):
        parse_web_section({"session_idel_timeout": 60})
    with pytest.raises(ConfigError, match="token_default_days"):
        parse_web_section({"token_default_days": 400, "token_max_days": 365})
    with pytest.raises(ConfigError, match=r"api\.port"):
        parse_api_section({"port": 99999})
    assert WEB_SECTION_SCHEMA["additionalProperties"] is False


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/cases?status=open", "/cases?status=open"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_sign_in_only_returns_to_same_site_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
