"""The encrypted recording file format (AES-256-GCM in chunks, so long files stream).

    magic "HLENC1\\n" | key id length (1 byte) | key id | nonce prefix (8 bytes)
    then chunks: length (4 bytes, big endian) | ciphertext+tag of up to CHUNK bytes

Chunk i uses the nonce `prefix | i` (4 bytes) and authenticates the header, its index and
whether it is the last chunk, so reordered, dropped or truncated chunks fail to decrypt.
"""

from __future__ import annotations

import io
import os
import struct
from typing import IO

from cryptography.exceptions import InvalidTag

from hotline.encryption import EncryptionError, Keyring

MAGIC = b"HLENC1\n"
CHUNK = 1 << 20


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


def _header(key_id: str, prefix: bytes) -> bytes:
    kid = key_id.encode()
    return MAGIC + bytes([len(kid)]) + kid + prefix


def encrypt_stream(keyring: Keyring, src: IO[bytes], dst: IO[bytes]) -> None:
    """Encrypt all of `src` into `dst` with the keyring's active key."""
    prefix = os.urandom(8)
    header = _header(keyring.active, prefix)
    aead = keyring.aead(keyring.active)
    dst.write(header)
    index = 0
    chunk = src.read(CHUNK)
    while True:
        following = src.read(CHUNK) if chunk else b""
        last = not following
        sealed = aead.encrypt(prefix + struct.pack(">I", index), chunk, header + struct.pack(">I?", index, last))
        dst.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        chunk, index = following, index + 1


def file_key_id(src: IO[bytes]) -> str:
    """The key id in an encrypted file's header (reads the header)."""
    head = src.read(len(MAGIC) + 1)
    if not is_encrypted(head):
        raise EncryptionError("not an encrypted recording file")
    return src.read(head[-1]).decode()


def decrypt_stream(keyring: Keyring, src: IO[bytes], dst: IO[bytes]) -> None:
    """Decrypt an encrypted file from `src` (at its start) into `dst`."""
    key_id = file_key_id(src)
    prefix = src.read(8)
    header = _header(key_id, prefix)
    aead = keyring.aead(key_id)
    index = 0
    while True:
        size = src.read(4)
        if len(size) != 4:
            raise EncryptionError("encrypted recording file is truncated")
        sealed = src.read(struct.unpack(">I", size)[0])
        at_end = src.read(1) == b""
        if not at_end:
            src.seek(-1, io.SEEK_CUR)
        try:
            dst.write(aead.decrypt(prefix + struct.pack(">I", index), sealed, header + struct.pack(">I?", index, at_end)))
        except InvalidTag as exc:
            raise EncryptionError(f"encrypted recording file damaged at chunk {index}") from exc
        if at_end:
            return
        index += 1


def encrypt_bytes(keyring: Keyring, data: bytes) -> bytes:
    out = io.BytesIO()
    encrypt_stream(keyring, io.BytesIO(data), out)
    return out.getvalue()


def decrypt_bytes(keyring: Keyring, data: bytes) -> bytes:
    out = io.BytesIO()
    decrypt_stream(keyring, io.BytesIO(data), out)
    return out.getvalue()
