"""Password hashing (Argon2id, argon2-cffi) and the password rule.

Hashing is deliberately slow (tens of milliseconds): async callers run it in an executor.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256
_HASHER = PasswordHasher()
_DUMMY: list[str] = []  # verified against when the login does not exist (same time either way)


class PasswordRejected(ValueError):
    """The password does not meet the rule; the message says why (never the password)."""


def check_password_rule(password: str, login: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"a password has at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"a password has at most {MAX_LENGTH} characters")
    if login and password.lower() == login.lower():
        raise PasswordRejected("the password must not be the login")
    if "change-me" in password.lower():
        raise PasswordRejected("'change-me' passwords are sample secrets; choose your own")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash still costs one verification."""
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash("no such user: constant-time refusal"))
    try:
        return _HASHER.verify(password_hash or _DUMMY[0], password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
