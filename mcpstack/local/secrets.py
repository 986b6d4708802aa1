"""Secret values for a local stack: from MCPSTACK_SECRET_<NAME>, else a stored file, else generated.

Values live in the stack's state directory with mode 0600 and are never printed or logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from mcpstack.catalog.models import SecretSpec


class MissingSecret(RuntimeError):
    pass


def env_var_for(name: str) -> str:
    return "MCPSTACK_SECRET_" + name.upper().replace("-", "_")


class SecretStore:
    def __init__(self, directory: Path, specs: dict[str, SecretSpec]) -> None:
        self._directory = directory
        self._specs = specs

    def value(self, name: str) -> str:
        if name not in self._specs:
            raise MissingSecret(f"secret {name!r} is not declared in the catalog")
        if from_env := os.environ.get(env_var_for(name)):
            return from_env
        stored = self._directory / name
        if stored.is_file():
            return stored.read_text(encoding="utf-8").strip()
        if not self._specs[name].generate:
            raise MissingSecret(
                f"secret {name!r} ({self._specs[name].description}) has no value: "
                f"set {env_var_for(name)} or write it to {stored}"
            )
        value = secrets.token_urlsafe(32)
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value)
        return value
