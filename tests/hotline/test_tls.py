"""The HTTP server over TLS: a self-signed certificate made here with `cryptography`,
TLS 1.3 negotiated, TLS 1.2 refused, `hotline serve` answering https; bad `api.tls` named."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from aiohttp import ClientSession, TCPConnector, web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hotline.tls import TlsConfigError, server_ssl_context
from tests.hotline.test_serve_process import ROOT, _free_port, _hotline, _wait_until


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return cert_path, key_path


def client_context(cert: Path, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    if maximum is not None:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = maximum
    return context


async def test_tls_13_served_and_older_versions_refused(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    context = server_ssl_context({"cert": "cert.pem", "key": "key.pem"}, base=tmp_path)
    assert context is not None and context.minimum_version is ssl.TLSVersion.TLSv1_3

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"tls": request.transport.get_extra_info("ssl_object").version()})

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with (
            ClientSession(connector=TCPConnector(ssl=client_context(cert))) as session,
            session.get(f"https://localhost:{port}/") as response,
        ):
            assert await response.json() == {"tls": "TLSv1.3"}
        async with ClientSession(connector=TCPConnector(ssl=client_context(cert, ssl.TLSVersion.TLSv1_2))) as old:
            with pytest.raises(Exception) as refused:
                await old.get(f"https://localhost:{port}/")
            assert "SSL" in type(refused.value).__name__ or "ssl" in str(refused.value).lower()
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"cert": "cert.pem"}, "api.tls.key: a PEM file path is required"),
        ({"cert": "nope.pem", "key": "key.pem"}, "api.tls.cert: .*nope.pem: no such file"),
        ({"cert": "key.pem", "key": "key.pem"}, "api.tls: cannot load"),
        ({"cert": "cert.pem", "key": "key.pem", "ciphers": "x"}, r"api.tls: unknown keys \['ciphers'\]"),
        ("on", "api.tls: must be a mapping"),
    ],
)
def test_bad_tls_settings_name_the_key(tmp_path: Path, raw: object, message: str) -> None:
    self_signed(tmp_path)
    with pytest.raises(TlsConfigError, match=message):
        server_ssl_context(raw, base=tmp_path)


def test_serve_answers_https_with_the_configured_certificate(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    shutil.copytree(ROOT / "config" / "menus", tmp_path / "menus")
    config = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8"))
    port = _free_port()
    config.pop("speech")
    config["asterisk"]["enabled"] = False
    config["api"].update(port=port, tls={"cert": "cert.pem", "key": "key.pem"})
    (tmp_path / "hotline.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert _hotline("db", "upgrade", "--config", "hotline.yaml", cwd=tmp_path).returncode == 0
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "serve", "--config", "hotline.yaml"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    context = client_context(cert)

    def health() -> bool:
        with urllib.request.urlopen(f"https://localhost:{port}/healthz", timeout=5, context=context) as response:
            return bool(json.loads(response.read())["status"] == "alive")

    try:
        _wait_until(health)
    finally:
        server.terminate()
        server.wait(timeout=30)
    broken = yaml.safe_load((tmp_path / "hotline.yaml").read_text(encoding="utf-8"))
    broken["api"]["tls"]["key"] = "missing.pem"
    (tmp_path / "hotline.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    refused = _hotline("serve", "--config", "hotline.yaml", cwd=tmp_path)
    assert refused.returncode == 2 and "api.tls.key:" in refused.stderr and "Traceback" not in refused.stderr
