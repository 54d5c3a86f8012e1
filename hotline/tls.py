"""TLS for the HTTP server (`api.tls`, docs/security.md): TLS 1.3 only, with the
configured certificate chain and key (PEM).

    api:
      tls:
        cert: /etc/hotline/tls/fullchain.pem   # relative paths: from the config file's folder
        key: /etc/hotline/tls/privkey.pem
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["cert", "key"],
    "properties": {
        "cert": {"type": "string", "minLength": 1},
        "key": {"type": "string", "minLength": 1},
    },
}


class TlsConfigError(ValueError):
    """`api.tls` is invalid or its files cannot be loaded; the message names the key."""


def server_ssl_context(raw: Any, base: Path | None = None) -> ssl.SSLContext | None:
    """The server context of an `api.tls` mapping (None: no `tls`, plain HTTP)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise TlsConfigError("api.tls: must be a mapping with cert and key")
    unknown = set(raw) - {"cert", "key"}
    if unknown:
        raise TlsConfigError(f"api.tls: unknown keys {sorted(unknown)}")
    paths = {}
    for name in ("cert", "key"):
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            raise TlsConfigError(f"api.tls.{name}: a PEM file path is required")
        path = Path(value)
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise TlsConfigError(f"api.tls.{name}: {path}: no such file")
        paths[name] = path
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        context.load_cert_chain(paths["cert"], paths["key"])
    except (ssl.SSLError, OSError) as exc:
        raise TlsConfigError(f"api.tls: cannot load {paths['cert']} / {paths['key']}: {exc}") from exc
    return context


def client_ssl_context(enabled: bool, cafile: str | None = None) -> ssl.SSLContext | None:
    """A verifying client context (TLS 1.2 minimum: what Asterisk's OpenSSL offers), trusting
    `cafile` (Asterisk's own CA or self-signed certificate) or the system's CAs; None: plain."""
    if not enabled:
        return None
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
