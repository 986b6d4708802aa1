"""What an e2e suite talks to: URLs and credentials of a stack, local or deployed.

A local stack (fresh, or running via --stack) provides everything itself. A deployed one (for example
after `pulumi up`) is described by a YAML file given with --target (or `mcpstack e2e --target FILE`):

    environment: prod                 # catalog environment it was deployed from
    gateway: {url: https://tools.example.com, key_env: MCPSTACK_E2E_GATEWAY_KEY}
    prometheus: {url: https://prometheus.example.com}
    open_webui: {url: https://chat.example.com, email: admin@example.com, password_env: MCPSTACK_E2E_WEBUI_PASSWORD}

Credentials come from environment variables (`*_env`), never from the file itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mcpstack.catalog import Catalog, load_catalog
from mcpstack.catalog.models import GatewayService, OpenWebUIService, PrometheusService
from mcpstack.local.stack import LocalStack

E2E_CLIENT = "e2e"


class TargetError(ValueError):
    pass


@dataclass(frozen=True)
class OpenWebUI:
    url: str
    email: str
    password: str


@dataclass(frozen=True)
class Target:
    catalog: Catalog
    gateway_url: str
    gateway_key: str
    prometheus_url: str
    open_webui: OpenWebUI | None
    local: LocalStack | None = None  # present when the suite may inspect and restart containers

    @property
    def gateway(self) -> GatewayService:
        return next(s for s in self.catalog.services.values() if isinstance(s, GatewayService))

    @classmethod
    def from_stack(cls, stack: LocalStack) -> Target:
        catalog = stack.catalog
        gateway_name = next(n for n, s in catalog.services.items() if isinstance(s, GatewayService))
        gateway = catalog.services[gateway_name]
        assert isinstance(gateway, GatewayService)
        prometheus = next(n for n, s in catalog.services.items() if isinstance(s, PrometheusService))
        webui = next(((n, s) for n, s in catalog.services.items() if isinstance(s, OpenWebUIService)), None)
        open_webui = None
        if webui:
            name, service = webui
            password_secret = next(ref.secret for ref in service.secrets if ref.env == "WEBUI_ADMIN_PASSWORD")
            open_webui = OpenWebUI(
                stack.url(name), service.env["WEBUI_ADMIN_EMAIL"], stack.secrets.value(password_secret)
            )
        return cls(
            catalog,
            stack.url(gateway_name),
            stack.secrets.value(gateway.gateway.clients[E2E_CLIENT].secret),
            stack.url(prometheus),
            open_webui,
            stack,
        )

    @classmethod
    def from_file(cls, path: Path, config_dir: Path) -> Target:
        try:
            document = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise TargetError(f"{path}: cannot read the target description: {exc}") from None
        if not isinstance(document, dict):
            raise TargetError(f"{path}: expected a mapping")
        catalog = load_catalog(config_dir, str(document.get("environment", "prod")))
        webui = document.get("open_webui")
        return cls(
            catalog,
            _field(path, document, "gateway", "url"),
            _secret(path, document, "gateway", "key"),
            _field(path, document, "prometheus", "url"),
            OpenWebUI(
                _field(path, document, "open_webui", "url"),
                _field(path, document, "open_webui", "email"),
                _secret(path, document, "open_webui", "password"),
            )
            if webui
            else None,
        )


def _field(path: Path, document: dict[str, Any], section: str, key: str) -> str:
    value = (document.get(section) or {}).get(key)
    if not isinstance(value, str) or not value:
        raise TargetError(f"{path}: {section}.{key} is required")
    return value.rstrip("/")


def _secret(path: Path, document: dict[str, Any], section: str, key: str) -> str:
    variable = _field(path, document, section, f"{key}_env")
    value = os.environ.get(variable)
    if not value:
        raise TargetError(f"{path}: {section}.{key}_env names {variable}, which is not set")
    return value
