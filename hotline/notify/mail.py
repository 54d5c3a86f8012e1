"""E-mail over SMTP with aiosmtplib (asynchronous, maintained)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from hotline.notify.settings import SmtpSettings
from hotline.notify.sms import DeliveryError


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, to: str, subject: str, body: str) -> str:
        """Send one plain-text message; returns its Message-ID."""
        s = self.settings
        message = EmailMessage()
        message["From"] = s.from_address
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = _message_id(s.from_address)
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message, hostname=s.host, port=s.port, username=s.username or None, password=s.password or None,
                start_tls=s.starttls, use_tls=s.use_tls, timeout=s.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"smtp {s.host}:{s.port}: {exc}") from exc
        return str(message["Message-ID"])


def _message_id(sender: str) -> str:
    from email.utils import make_msgid

    domain = sender.rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)
