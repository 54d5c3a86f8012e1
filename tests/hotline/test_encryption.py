"""Keys from the environment, field and file encryption: round trips, key ids, tampering."""

from __future__ import annotations

import io
import os

import pytest

from hotline.encrypted_files import CHUNK, decrypt_bytes, encrypt_bytes, encrypt_stream, file_key_id
from hotline.encryption import (
    EncryptionConfigError,
    EncryptionError,
    FieldCipher,
    Keyring,
    field_key_id,
    generate_key,
    parse_encryption_settings,
)

K1, K2 = generate_key(), generate_key()


def test_keys_come_from_the_named_variable_first_is_active_unless_chosen() -> None:
    ring = parse_encryption_settings({"keys_env": "HL_K"}, {"HL_K": f"k1:{K1}, k2:{K2}"})
    assert ring is not None and ring.active == "k1" and set(ring.keys) == {"k1", "k2"}
    ring = parse_encryption_settings({"keys_env": "HL_K", "active": "k2"}, {"HL_K": f"k1:{K1},k2:{K2}"})
    assert ring is not None and ring.active == "k2"
    assert parse_encryption_settings(None, {}) is None


@pytest.mark.parametrize(
    ("raw", "env", "message"),
    [
        ({}, {}, "encryption.keys_env: the environment variable HOTLINE_KEYS is not set"),
        ({}, {"HOTLINE_KEYS": "k1"}, "entry 1 is not 'id:key'"),
        ({}, {"HOTLINE_KEYS": "k1:c2hvcnQ"}, "key 'k1' has 5 bytes, 32 needed"),
        ({}, {"HOTLINE_KEYS": f"k1:{K1},k1:{K2}"}, "key id 'k1' given twice"),
        ({"active": "k9"}, {"HOTLINE_KEYS": f"k1:{K1}"}, "encryption.active: key 'k9' is not in"),
        ({"recordings": "yes"}, {"HOTLINE_KEYS": f"k1:{K1}"}, "encryption.recordings: 'yes' is not of type 'boolean'"),
        ({"keyz_env": "X"}, {}, "encryption: Additional properties are not allowed"),
    ],
)
def test_bad_keys_or_section_name_the_problem(raw: dict[str, object], env: dict[str, str], message: str) -> None:
    with pytest.raises(EncryptionConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_encryption_settings(raw, env)


def test_fields_round_trip_carry_the_key_id_and_are_bound_to_their_field() -> None:
    old = FieldCipher(Keyring.parse(f"k1:{K1}", None, "v"))
    new = FieldCipher(Keyring.parse(f"k2:{K2},k1:{K1}", None, "v"))
    sealed = old.encrypt("customers.name", "김민수")
    assert sealed is not None and "김민수" not in sealed and field_key_id(sealed) == "k1"
    assert old.encrypt("customers.name", "김민수") != sealed  # a fresh nonce every time
    assert new.decrypt("customers.name", sealed) == "김민수"  # old key still listed: readable
    assert new.needs_rotation(sealed) and new.needs_rotation("clear") and not new.needs_rotation(None)
    assert new.decrypt("customers.name", "clear value") == "clear value"
    with pytest.raises(EncryptionError, match="not for this field"):
        new.decrypt("customers.id_number", sealed)
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(EncryptionError):
        new.decrypt("customers.name", tampered)
    with pytest.raises(EncryptionError, match="key 'k2', which is not among"):
        old.decrypt("customers.name", new.encrypt("customers.name", "x"))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 7])
def test_files_round_trip_across_chunk_boundaries(size: int) -> None:
    ring = Keyring.parse(f"k1:{K1}", None, "v")
    data = os.urandom(size)
    sealed = encrypt_bytes(ring, data)
    assert decrypt_bytes(ring, sealed) == data
    assert file_key_id(io.BytesIO(sealed)) == "k1"


def test_truncated_reordered_or_altered_files_do_not_decrypt() -> None:
    ring = Keyring.parse(f"k1:{K1}", None, "v")
    data = os.urandom(2 * CHUNK + 100)
    sealed = encrypt_bytes(ring, data)
    header = len(b"HLENC1\n") + 1 + 2 + 8
    first = 4 + CHUNK + 16
    for damaged in (
        sealed[: header + first],  # whole chunks dropped at the end
        sealed[:-1],  # truncated inside the last chunk
        sealed[:header] + sealed[header + first : header + 2 * first] + sealed[header : header + first]
        + sealed[header + 2 * first :],  # chunks swapped
        sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:],
    ):
        with pytest.raises(EncryptionError):
            decrypt_bytes(ring, damaged)


def test_encrypted_audio_does_not_show_through() -> None:
    ring = Keyring.parse(f"k1:{K1}", None, "v")
    out = io.BytesIO()
    encrypt_stream(ring, io.BytesIO(b"RIFF....WAVEfmt " * 1000), out)
    assert b"WAVE" not in out.getvalue()
