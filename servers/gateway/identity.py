"""End users as Open WebUI vouches for them, verified: never as a client merely asserts them.

Open WebUI (ENABLE_FORWARD_USER_INFO_HEADERS with FORWARD_USER_INFO_HEADER_JWT_SECRET) sends the user of each tool
call as one HS256 JWT in `X-OpenWebUI-User-Jwt`: `sub` (user id), `email`, `name`, `role`, `iss: open-webui`,
`iat`, `exp` (5 minutes by default). The gateway holds the same key (catalog `user_identity_secret`, a file) and
accepts the token only with a valid signature, from that issuer, unexpired. Holding a gateway key is therefore not
enough to become another user or an admin: that takes the signing key, which only Open WebUI has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jwt

ISSUER = "open-webui"
MAX_TOKEN_LENGTH = 4096
LEEWAY_SECONDS = 30
MIN_KEY_LENGTH = 32
# A well-formed address: one "@", a local part without spaces, a domain of DNS labels. Tenant rules match its
# domain exactly, so "a@guest.example.com@example.com" (not an address) matches no domain rule at all.
EMAIL = re.compile(
    r"^[^@\s]{1,64}@(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9])$",
    re.IGNORECASE,
)


class InvalidIdentity(ValueError):
    pass


@dataclass(frozen=True)
class VerifiedUser:
    id: str
    email: str | None
    role: str | None


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of a well-formed e-mail address, else None."""
    found = EMAIL.match(email or "")
    return found["domain"].lower() if found else None


class UserIdentityVerifier:
    def __init__(self, key: str | None) -> None:
        self._key = key

    @classmethod
    def from_file(cls, path: str | None) -> UserIdentityVerifier:
        if path is None:
            return cls(None)
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read the user identity key {path}: {exc.strerror}") from None
        if len(key) < MIN_KEY_LENGTH:
            raise ValueError(f"the user identity key in {path} is shorter than {MIN_KEY_LENGTH} characters")
        return cls(key)

    def verify(self, token: str) -> VerifiedUser:
        if self._key is None:
            raise InvalidIdentity("this gateway verifies no signed user identities (no user_identity_secret)")
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidIdentity(f"the token is longer than {MAX_TOKEN_LENGTH} characters")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["sub", "iss", "iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidIdentity(f"{type(exc).__name__}: {exc}") from None
        subject, email, role = claims["sub"], claims.get("email"), claims.get("role")
        if not isinstance(subject, str) or not subject or len(subject) > 256:
            raise InvalidIdentity("the token's subject is not a user id")
        return VerifiedUser(
            subject,
            email.strip() if isinstance(email, str) and email.strip() else None,
            role if isinstance(role, str) and role else None,
        )
