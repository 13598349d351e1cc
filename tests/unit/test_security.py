"""Passwords and API keys are never stored in the clear."""

from __future__ import annotations

from app.security import hash_api_key, hash_password, new_api_key, tokens_match, verify_password


def test_password_hash_is_argon2_and_verifies_only_the_right_password() -> None:
    hashed = hash_password("correct horse")

    assert hashed.startswith("$argon2id$")
    assert verify_password("correct horse", hashed)
    assert not verify_password("wrong horse", hashed)
    assert not verify_password("correct horse", None)


def test_api_keys_are_random_and_hashed() -> None:
    a, b = new_api_key(), new_api_key()

    assert a != b
    assert a.startswith("pk_")
    assert len(a) > 40
    assert hash_api_key(a) != hash_api_key(b)
    assert len(hash_api_key(a)) == 64


def test_tokens_match_needs_two_equal_non_empty_tokens() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match(None, None)
    assert not tokens_match("", "")
