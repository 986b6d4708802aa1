"""End users signed as Open WebUI signs them, for the gateway's tests."""

from __future__ import annotations

import time

import jwt

SIGNING_KEY = "test-signing-key-" + "0123456789abcdef" * 4  # Open WebUI's FORWARD_USER_INFO_HEADER_JWT_SECRET


def signed_user(user_id: str, email: str = "", role: str = "user", key: str = SIGNING_KEY, **claims: object) -> str:
    """An end user as Open WebUI 0.12.4 signs it (utils/headers.py: HS256, iss open-webui, 5 minutes)."""
    now = int(time.time())
    payload = {"sub": user_id, "email": email, "name": user_id, "role": role, "iss": "open-webui"}
    return jwt.encode({**payload, "iat": now, "exp": now + 300, **claims}, key, algorithm="HS256")
