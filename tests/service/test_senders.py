"""The senders at the edge: Twilio Messaging requests asserted exactly through the injected
HTTP client; e-mail against a real SMTP server started in the test; E.164 numbers."""

from __future__ import annotations

import pytest

from hotline.notify.mail import SmtpMailer
from hotline.notify.settings import MessagingSettings, SmtpSettings, parse_messaging, parse_smtp
from hotline.notify.sms import DeliveryError, TwilioSms
from hotline.phone import to_e164
from tests.service.fakes import ACCOUNT, FROM, TOKEN, FakeMessagesApi, smtp_server

SETTINGS = MessagingSettings(
    enabled=True, account_sid=ACCOUNT, auth_token=TOKEN, from_number=FROM,
    status_callback="https://hotline.example.com/twilio/message-status",
)


async def test_an_sms_is_one_exact_messages_request() -> None:
    api = FakeMessagesApi()
    sid = await TwilioSms(SETTINGS, api).send("+821012345678", "Your request HL-2026-000001 is resolved.")
    assert sid == "SM" + f"{1:032x}"
    [req] = api.requests
    assert (req.method, req.url, req.auth) == (
        "POST", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json", (ACCOUNT, TOKEN))
    assert req.data == {
        "To": "+821012345678", "From": FROM, "Body": "Your request HL-2026-000001 is resolved.",
        "StatusCallback": "https://hotline.example.com/twilio/message-status",
    }


async def test_a_messaging_service_replaces_the_from_number() -> None:
    api = FakeMessagesApi()
    settings = MessagingSettings(enabled=True, account_sid=ACCOUNT, auth_token=TOKEN,
                                 messaging_service_sid="MG" + "a" * 32)
    await TwilioSms(settings, api).send("+821012345678", "hi")
    assert api.requests[0].data == {"To": "+821012345678", "Body": "hi", "MessagingServiceSid": "MG" + "a" * 32}


async def test_a_refused_sms_is_a_delivery_error() -> None:
    api = FakeMessagesApi()
    api.status = 400
    with pytest.raises(DeliveryError, match="HTTP 400"):
        await TwilioSms(SETTINGS, api).send("+821012345678", "hi")


async def test_e_mail_reaches_a_real_smtp_server() -> None:
    async with smtp_server() as (inbox, port):
        mailer = SmtpMailer(SmtpSettings(enabled=True, host="127.0.0.1", port=port, from_address="care@hotline.example"))
        message_id = await mailer.send("customer@example.com", "Your request HL-2026-000001", "Résolu. 처리되었습니다.")
        await inbox.arrived.wait()
    [msg] = inbox.messages
    assert inbox.envelopes == [("care@hotline.example", ["customer@example.com"])]
    assert (msg["From"], msg["To"], msg["Subject"], msg["Message-ID"]) == (
        "care@hotline.example", "customer@example.com", "Your request HL-2026-000001", message_id)
    assert msg.get_content().strip() == "Résolu. 처리되었습니다."


async def test_an_unreachable_smtp_server_is_a_delivery_error() -> None:
    async with smtp_server() as (_, port):
        pass  # closed again: nothing listens there now
    mailer = SmtpMailer(SmtpSettings(enabled=True, host="127.0.0.1", port=port, timeout=2))
    with pytest.raises(DeliveryError, match=r"smtp 127\.0\.0\.1"):
        await mailer.send("a@example.com", "s", "b")


@pytest.mark.parametrize(("raw", "e164"), [
    ("010-1234-5678", "+821012345678"), ("+82 10 1234 5678", "+821012345678"), ("+1 415 555 2671", "+14155552671"),
    ("12", None), ("not a number", None),
])
def test_numbers_in_e164(raw: str, e164: str | None) -> None:
    assert to_e164(raw) == e164


def test_config_sections_are_checked() -> None:
    with pytest.raises(ValueError, match=r"messaging\.from"):
        parse_messaging({"account_sid": ACCOUNT, "auth_token": "t", "from": "0101234"})
    with pytest.raises(ValueError, match="needed"):
        parse_messaging({"enabled": True, "account_sid": ACCOUNT})
    with pytest.raises(ValueError, match=r"smtp\.port"):
        parse_smtp({"port": 0})
    with pytest.raises(ValueError, match="exclude"):
        parse_smtp({"starttls": True, "use_tls": True})
    assert not parse_messaging(None).enabled and not parse_smtp({}).enabled
    assert parse_smtp({"host": "mail", "port": 587, "starttls": True}).starttls
