"""What every component needs: the catalog, the stack settings, the namespace, and secret values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.settings import StackSettings
from mcpstack.catalog.models import Catalog
from mcpstack.generate import GENERATORS

SecretValue = Callable[[str], pulumi.Output[str]]


@dataclass(frozen=True)
class Deploy:
    catalog: Catalog
    settings: StackSettings
    namespace: Any  # str or Output[str]
    secret: SecretValue  # catalog secret -> its value, from Pulumi secret config

    @property
    def environment(self) -> str:
        return self.catalog.environment

    def runtime_class(self, service: str) -> str | None:
        from infra.manifests import runtime_class

        return runtime_class(self.catalog.services[service], self.settings.runtime_classes.get(service))


def secrets_of_generator(catalog: Catalog, service: str, generator: str) -> list[str]:
    """Catalog secrets a generator puts into its output for this service (it is asked for them)."""
    asked: list[str] = []

    def record(name: str) -> str:
        asked.append(name)
        return f"<secret:{name}>"

    GENERATORS[generator].render(catalog, service, record)
    return sorted(set(asked))


def generated(deploy: Deploy, service: str, generator: str) -> pulumi.Output[str]:
    """A generator's output for a service, with secret values from config; secret if the generator is."""
    needed = secrets_of_generator(deploy.catalog, service, generator)
    render = GENERATORS[generator].render

    def content(values: list[str]) -> str:
        known = dict(zip(needed, values, strict=True))
        return render(deploy.catalog, service, known.__getitem__)

    output = pulumi.Output.all(*[deploy.secret(n) for n in needed]).apply(content)
    return pulumi.Output.secret(output) if GENERATORS[generator].secret else output


def required_secrets(catalog: Catalog, services: list[str]) -> list[str]:
    """Every catalog secret the deployed services need: referenced directly or put into generated files."""
    from infra.manifests import generators_used, secret_names

    needed: set[str] = set()
    for name in services:
        service = catalog.services[name]
        needed |= set(secret_names(service))
        for generator in generators_used(service):
            needed |= set(secrets_of_generator(catalog, name, generator))
    return sorted(needed)
