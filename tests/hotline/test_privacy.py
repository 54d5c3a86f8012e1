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
