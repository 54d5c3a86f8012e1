"""AMI over TLS (a fake Asterisk behind a self-signed certificate made with `cryptography`),
and no Asterisk at all: one warning line, then quiet back-off until a login succeeds."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from pathlib import Path

import pytest

from asterisk.ami_client import AmiClient
from asterisk.settings import AmiSettings, AsteriskConfigError, parse_settings
from tests.asterisk.fake_asterisk import FakeAsterisk
from tests.hotline.test_tls import self_signed


async def test_ami_logs_in_over_tls_and_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    fake = FakeAsterisk(secret="s3cret")
    fake._server = await asyncio.start_server(fake._accept, "127.0.0.1", 0, ssl=server_tls)
    fake.port = fake._server.sockets[0].getsockname()[1]
    base = {"host": "localhost", "port": fake.port, "username": "hotline", "secret": "s3cret",
            "connect_timeout": 2, "backoff_initial": 0.01, "backoff_max": 0.05, "ssl": True}
    trusted = parse_settings({"ami": {**base, "ssl_ca": "cert.pem"}}, base=tmp_path).ami
    assert trusted.ssl and trusted.ssl_ca == str(tmp_path / "cert.pem")
    client = AmiClient(trusted, lambda m: None)
    client.start()
    try:
        await client.wait_ready(5)
        assert (await client.action("Ping")).response.get("Ping") == "Pong"
        assert fake.received("Login")[0]["Secret"] == "s3cret"
    finally:
        await client.stop()

    logins = len(fake.received("Login"))
    untrusted = AmiClient(parse_settings({"ami": base}).ami, lambda m: None)  # system CAs only
    untrusted.start()
    try:
        with pytest.raises(Exception, match="not ready"):
            await untrusted.wait_ready(0.5)
        assert isinstance(untrusted.last_error, ssl.SSLError)
        assert len(fake.received("Login")) == logins  # the secret never went to an untrusted peer
    finally:
        await untrusted.stop()
        await fake.close()


def test_ami_ssl_must_be_a_flag() -> None:
    with pytest.raises(AsteriskConfigError, match=r"asterisk\.ami\.ssl: must be true or false"):
        parse_settings({"ami": {"ssl": "yes"}})


class _Count(logging.Handler):
    def __init__(self, wanted: int) -> None:
        super().__init__(logging.DEBUG)
        self.retries = 0
        self.wanted = wanted
        self.enough = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("AMI reconnect in"):
            self.retries += 1
            if self.retries >= self.wanted:
                self.enough.set()


async def test_without_asterisk_one_warning_then_quiet_back_off(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = AmiSettings(port=port, connect_timeout=1, backoff_initial=0.01, backoff_max=0.02)
    counter = _Count(wanted=6)
    logger = logging.getLogger("hotline.asterisk.ami")
    logger.addHandler(counter)
    client = AmiClient(settings, lambda m: None)
    try:
        with caplog.at_level(logging.DEBUG, logger="hotline.asterisk.ami"):
            client.start()
            await asyncio.wait_for(counter.enough.wait(), 10)
            await client.stop()
    finally:
        logger.removeHandler(counter)
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(loud) == 1, [r.getMessage() for r in loud]
    assert f"127.0.0.1:{port} failed" in loud[0].getMessage()
    assert "enabled: false" in loud[0].getMessage()

    # after a good session, the next outage warns once again
    fake = FakeAsterisk(secret="change-me")
    await fake.start(port)
    warned = _Warned()
    logger.addHandler(warned)
    client = AmiClient(settings, lambda m: None)
    client._failures_in_a_row = 3  # as after a quiet outage
    try:
        client.start()
        await client.wait_ready(5)
        assert client._failures_in_a_row == 0
        await fake.close()
        await asyncio.wait_for(warned.seen.wait(), 10)
        await client.stop()
    finally:
        logger.removeHandler(warned)


class _Warned(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.set()
