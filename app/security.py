"""Passwords, API keys and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash

API_KEY_PREFIX = "pk_"
_password_hash = PasswordHash.recommended()  # argon2id

# A real hash to verify against when the user does not exist, so a wrong email and a wrong
# password take the same time and cannot be told apart.
_DUMMY_HASH = _password_hash.hash(secrets.token_urlsafe(16))


def use_password_hash(hasher: PasswordHash) -> None:
    """Swaps the hasher (the tests use argon2 with a cheap cost: what takes 170 ms a hash on
    a server would make the suite minutes longer)."""
    global _password_hash, _DUMMY_HASH
    _password_hash = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _password_hash.verify(password, _DUMMY_HASH)
        return False
    return _password_hash.verify(password, password_hash)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_display_prefix(key: str) -> str:
    return key[: len(API_KEY_PREFIX) + 6]


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
