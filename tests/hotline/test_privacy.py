from __future__ import annotations

import logging

import pytest

from hotline.privacy import MaskingFilter, mask_id, mask_name, mask_phone, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+821012345678", "+82******5678"),
        ("01012345678", "*******5678"),
        ("+1 (415) 555-0100", "+14*****0100"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


def test_mask_id_and_name() -> None:
    assert mask_id("M12345678") == "*****5678"
    assert mask_name("Kim Minjun") == "K** M*****"


def test_mask_text_masks_long_digit_runs_only() -> None:
    text = "caller 010-1234-5678 flight KE123 card 4111111111111111"
    assert mask_text(text) == "caller *******5678 flight KE123 card ************1111"


def test_log_filter_masks_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("call from %s", "+821012345678")
    assert "+821012345678" not in caplog.text
    assert "+82******5678" in caplog.text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("from 010.1234.5678.", "from *******5678."),
        ("from 010/1234/5678", "from *******5678"),
        ("call +82 10 1234 5678 ended", "call +82******5678 ended"),
        ("card 4111 1111 1111 1111", "card ************1111"),
        ("caller=01012345678,", "caller=*******5678,"),
    ],
)
def test_mask_text_catches_dotted_slashed_and_spaced_numbers(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "uniqueid 1733051234.42 linkedid=1733051234.42",
        "MixMonitor /var/spool/asterisk/monitor/hotline/1733051234.42.wav",
        "channel PJSIP/1001-0000002a answered",
        "Local/7000@from-caller-00000003;1",
        "pbx1-1733051234.42 hung up",
        "wrote 1048576 bytes",
        "read 2097152B in 1234567 ms",
        "size=1048576 backlog: 2500000",
        "at 2026-12-01 10:00:00",
        "from 192.168.100.200",
    ],
)
def test_mask_text_keeps_asterisk_ids_counts_and_dates(text: str) -> None:
    assert mask_text(text) == text
