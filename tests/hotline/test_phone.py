from __future__ import annotations

from collections.abc import Iterator

import pytest

from hotline.config import ConfigError, parse_config
from hotline.phone import default_region, normalize_number, set_default_region


@pytest.fixture(autouse=True)
def korea() -> Iterator[None]:
    before = default_region()
    set_default_region("KR")
    yield
    set_default_region(before)


@pytest.mark.parametrize(
    "raw",
    [
        "010-1234-5678", "01012345678", "010.1234.5678", "+82 10-1234-5678", "+821012345678",
        "tel:+82-10-1234-5678", "sip:+821012345678@pbx.example.com;user=phone",
        '"Kim" <sip:01012345678@pbx.example.com>', " 010 1234 5678 ",
    ],
)
def test_every_form_is_one_e164_number(raw: str) -> None:
    assert normalize_number(raw) == "+821012345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1588", "1588"), ("1001", "1001"), ("sip:1001@pbx", "1001"), ("anonymous", ""),
     ("client:agent-1004", ""), ("", ""), ("+15005550006", "+15005550006"),
     ("1234&PJSIP/9999", "1234&PJSIP/9999"), ("sip:12;34@h", "12")],
)
def test_short_codes_extensions_and_non_numbers(raw: str, expected: str) -> None:
    assert normalize_number(raw) == expected


def test_national_numbers_follow_the_hotlines_country() -> None:
    set_default_region("US")
    assert normalize_number("(415) 555-0100") == "+14155550100"
    assert normalize_number("+82 10-1234-5678") == "+821012345678"


def test_country_is_a_config_key_checked_at_load() -> None:
    assert parse_config({"country": "jp"}).country == "JP"
    with pytest.raises(ConfigError, match="country"):
        parse_config({"country": "XX"})
    with pytest.raises(ConfigError, match="country"):
        parse_config({"country": "Korea"})
