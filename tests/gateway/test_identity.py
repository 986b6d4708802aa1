"""Signed end users: only a token Open WebUI signed with the shared key, unexpired, passes."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from servers.gateway.identity import InvalidIdentity, UserIdentityVerifier, VerifiedUser, email_domain
from tests.gateway.identities import SIGNING_KEY, signed_user

VERIFIER = UserIdentityVerifier(SIGNING_KEY)


def test_a_token_open_webui_signed_gives_the_user() -> None:
    admin = VerifiedUser("u-1", "ann@acme.test", "admin")
    assert VERIFIER.verify(signed_user("u-1", "ann@acme.test", "admin")) == admin
    assert VERIFIER.verify(signed_user("u-2", "", "user")) == VerifiedUser("u-2", None, "user")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (signed_user("u", key="another-key-0123456789abcdef-0123456789"), "InvalidSignatureError"),
        (signed_user("u", exp=int(time.time()) - 120), "ExpiredSignatureError"),
        (signed_user("u", iss="someone-else"), "InvalidIssuerError"),
        (signed_user("", "a@b.test"), "subject"),
        ("not.a.jwt", "DecodeError"),
        ("x" * 5000, "longer than"),
    ],
)
def test_tokens_that_do_not_verify_are_refused(token: str, reason: str) -> None:
    with pytest.raises(InvalidIdentity, match=reason):
        VERIFIER.verify(token)


def test_unsigned_and_other_algorithms_are_refused() -> None:
    claims = {"sub": "u", "iss": "open-webui", "iat": int(time.time()), "exp": int(time.time()) + 60, "role": "admin"}
    with pytest.raises(InvalidIdentity):
        VERIFIER.verify(jwt.encode(claims, None, algorithm="none"))
    with pytest.raises(InvalidIdentity):
        VERIFIER.verify(jwt.encode(claims, SIGNING_KEY, algorithm="HS512"))
    without_expiry = {k: v for k, v in claims.items() if k != "exp"}
    with pytest.raises(InvalidIdentity, match="exp"):
        VERIFIER.verify(jwt.encode(without_expiry, SIGNING_KEY, algorithm="HS256"))


def test_the_key_comes_from_a_file_and_must_be_long(tmp_path: Path) -> None:
    (tmp_path / "short").write_text("short\n")
    with pytest.raises(ValueError, match="shorter than 32"):
        UserIdentityVerifier.from_file(str(tmp_path / "short"))
    (tmp_path / "key").write_text(SIGNING_KEY + "\n")
    assert UserIdentityVerifier.from_file(str(tmp_path / "key")).verify(signed_user("u")).id == "u"
    with pytest.raises(ValueError, match="cannot read"):
        UserIdentityVerifier.from_file(str(tmp_path / "missing"))


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("ann@Example.COM", "example.com"),
        ("a@guest.example.com@example.com", None),
        ("ann@example", None),
        ("ann@-example.com", None),
        ("ann@example.com ", None),
        ("", None),
        (None, None),
    ],
)
def test_email_domain_is_that_of_a_well_formed_address_only(email: str | None, domain: str | None) -> None:
    assert email_domain(email) == domain
