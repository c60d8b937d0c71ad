"""Passwords: argon2id hashes, the strength rule, and a check that takes as long for unknown logins."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from yibao.core.errors import ValidationFailed

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) parameters
# Verified against when the login does not exist, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def check_password(password: str) -> str:
    """At least 8 characters with letters and digits (assumed rule), at most 128."""
    if not 8 <= len(password) <= 128 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise ValidationFailed(
            "password",
            "密码须为8至128位，并同时包含字母和数字",
            "password: 8 to 128 characters with letters and digits",
        )
    return password


def hash_password(password: str) -> str:
    """How a password is stored."""
    return _hasher.hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    """Whether ``password`` matches ``hashed``; without a hash, a check against a dummy that always fails."""
    try:
        return _hasher.verify(hashed or _DUMMY_HASH, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """Whether a stored hash uses weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(hashed)
