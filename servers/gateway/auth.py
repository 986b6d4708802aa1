"""Bearer API keys, one per named client, read from secret files."""

from __future__ import annotations

import hmac
from pathlib import Path

from servers.gateway.settings import ClientSettings


class KeyFileError(ValueError):
    pass


class ApiKeys:
    def __init__(self, keys: dict[str, str]) -> None:
        self._keys = [(name, key.encode()) for name, key in keys.items()]

    @classmethod
    def from_files(cls, clients: dict[str, ClientSettings]) -> ApiKeys:
        keys = {}
        for name, client in clients.items():
            try:
                key = Path(client.key_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise KeyFileError(f"client {name!r}: cannot read key file {client.key_file}: {exc.strerror}") from None
            if len(key) < 16:
                raise KeyFileError(f"client {name!r}: key in {client.key_file} is shorter than 16 characters")
            keys[name] = key
        return cls(keys)

    def client_for(self, authorization: str | None) -> str | None:
        """The client whose key is in an `Authorization: Bearer KEY` header, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        presented = token.strip().encode()
        found = None
        for name, key in self._keys:  # compare against every key: timing does not reveal which matched
            if hmac.compare_digest(presented, key):
                found = name
        return found
