"""Encryption at rest (docs/security.md): AES-256-GCM keys from the environment, a key id
stored with every ciphertext so keys can rotate.

    encryption:
      keys_env: HOTLINE_KEYS   # the variable holding "id:key,id:key" (key: 32 bytes, base64url)
      active: k2               # new data is encrypted with this key (default: the first listed)
      recordings: true         # encrypt recording files too (default true)

A field value is stored as `enc1:<key id>:<base64url(nonce | ciphertext | tag)>`, the field's
name authenticated with it (a ciphertext copied into another column does not decrypt).
Values without the prefix are clear text written before encryption was turned on: they are
read as they are and encrypted on their next write or by `hotline keys rotate`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FIELD_PREFIX = "enc1:"
DEFAULT_ENV = "HOTLINE_KEYS"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "keys_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "active": {"type": "string", "pattern": _KEY_ID.pattern},
        "recordings": {"type": "boolean"},
    },
}


class EncryptionError(Exception):
    """A ciphertext could not be decrypted (unknown key id, damaged or tampered data)."""


class EncryptionConfigError(ValueError):
    """The `encryption:` section or the key variable is invalid; the message names it."""


def generate_key() -> str:
    """A new random key, base64url (for `id:key` in the key variable)."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Keyring:
    keys: Mapping[str, bytes]
    active: str
    recordings: bool = True

    def aead(self, key_id: str) -> AESGCM:
        key = self.keys.get(key_id)
        if key is None:
            raise EncryptionError(f"data encrypted with key {key_id!r}, which is not among the configured keys")
        return AESGCM(key)

    @classmethod
    def parse(cls, text: str, active: str | None, where: str, recordings: bool = True) -> Keyring:
        keys: dict[str, bytes] = {}
        for i, item in enumerate(part.strip() for part in text.split(",") if part.strip()):
            key_id, sep, encoded = item.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise EncryptionConfigError(f"{where}: entry {i + 1} is not 'id:key' (id: letters, digits, . _ -)")
            try:
                key = _b64decode(encoded.strip())
            except (binascii.Error, ValueError):
                raise EncryptionConfigError(f"{where}: key {key_id!r} is not base64url") from None
            if len(key) != 32:
                raise EncryptionConfigError(f"{where}: key {key_id!r} has {len(key)} bytes, 32 needed")
            if key_id in keys:
                raise EncryptionConfigError(f"{where}: key id {key_id!r} given twice")
            keys[key_id] = key
        if not keys:
            raise EncryptionConfigError(f"{where}: no keys (set it to 'id:key', e.g. from `hotline keys generate`)")
        chosen = active or next(iter(keys))
        if chosen not in keys:
            raise EncryptionConfigError(f"encryption.active: key {chosen!r} is not in {where}")
        return cls(keys=keys, active=chosen, recordings=recordings)


def parse_encryption_settings(
    raw: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
) -> Keyring | None:
    """The keyring of the `encryption:` section (None: no section, nothing encrypted)."""
    if raw is None:
        return None
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(dict(raw)), key=lambda e: list(e.path))
    if errors:
        key = ".".join(["encryption", *(str(p) for p in errors[0].path)])
        raise EncryptionConfigError(f"{key}: {errors[0].message}")
    env = os.environ if environ is None else environ
    var = str(raw.get("keys_env", DEFAULT_ENV))
    if var not in env:
        raise EncryptionConfigError(
            f"encryption.keys_env: the environment variable {var} is not set (it holds the keys, "
            "'id:key,...'; make one with `hotline keys generate`)"
        )
    return Keyring.parse(env[var], raw.get("active"), f"environment variable {var}", bool(raw.get("recordings", True)))


class FieldCipher:
    """Encrypts and decrypts text fields of the case store with a keyring."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def encrypt(self, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        sealed = self.keyring.aead(self.keyring.active).encrypt(nonce, value.encode(), field.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{FIELD_PREFIX}{self.keyring.active}:{body}"

    def decrypt(self, field: str, value: str | None) -> str | None:
        if value is None or not value.startswith(FIELD_PREFIX):
            return value
        key_id, _, body = value[len(FIELD_PREFIX):].partition(":")
        try:
            raw = _b64decode(body)
            return self.keyring.aead(key_id).decrypt(raw[:12], raw[12:], field.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise EncryptionError(f"{field}: ciphertext under key {key_id!r} is damaged or not for this field") from exc

    def needs_rotation(self, value: str | None) -> bool:
        """True for clear text and for ciphertext under a key other than the active one."""
        if value is None:
            return False
        return field_key_id(value) != self.keyring.active


def field_key_id(value: str) -> str | None:
    """The key id of an encrypted field value; None for clear text."""
    if not value.startswith(FIELD_PREFIX):
        return None
    return value[len(FIELD_PREFIX):].partition(":")[0]
