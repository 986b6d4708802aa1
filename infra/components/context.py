"""What every component needs: the catalog, its services as deployed (mcpstack.deployment), the stack
settings, the namespace, and secret values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pulumi

from infra.gvisor import under_gvisor
from infra.manifests import runtime_class
from infra.settings import GVISOR_SERVICE, StackSettings
from mcpstack.catalog.models import Catalog
from mcpstack.deployment import DeployedService, describe_services
from mcpstack.deployment.images import ImagesNotPushed
from mcpstack.generate import GENERATORS

SecretValue = Callable[[str], pulumi.Output[str]]
CHART_REPLACED_KINDS = ("prometheus", "grafana")  # prod: kube-prometheus-stack runs them (platform.MONITORING_KINDS)


class ImagesNotPushedError(pulumi.RunError):
    pass


@dataclass(frozen=True)
class Deploy:
    catalog: Catalog
    settings: StackSettings
    namespace: Any  # str or Output[str]
    secret: SecretValue  # catalog secret -> its value, from Pulumi secret config

    def __post_init__(self) -> None:
        """With a registry, every image of ours the stack runs must have been pushed there (by digest):
        fail before anything is created, naming each one that was not."""
        try:
            self.settings.images.require(built_images(self.catalog, self.settings.helm))
        except ImagesNotPushed as exc:
            raise ImagesNotPushedError(str(exc)) from None

    @property
    def environment(self) -> str:
        return self.catalog.environment

    @cached_property
    def services(self) -> dict[str, DeployedService]:
        """Every catalog service as deployed: what the manifests render."""
        described = describe_services(self.catalog)
        if self.settings.gvisor and GVISOR_SERVICE in described:
            described[GVISOR_SERVICE] = under_gvisor(described[GVISOR_SERVICE])
        return described

    def runtime_class(self, service: str) -> str | None:
        return runtime_class(self.services[service], self.settings.runtime_classes.get(service))


def built_images(catalog: Catalog, helm: bool) -> list[str]:
    """Images built from this repository that the stack runs (local refs)."""
    return sorted(
        {
            service.image.ref
            for service in catalog.services.values()
            if service.image.build is not None
            and not service.local_only
            and not (helm and service.kind in CHART_REPLACED_KINDS)
        }
    )


def generated(deploy: Deploy, service: str, generator: str) -> pulumi.Output[str]:
    """A generator's output for a service, with secret values from config; secret if the generator is."""
    needed = list(deploy.services[service].generated[generator].secrets)
    render = GENERATORS[generator].render

    def content(values: list[str]) -> str:
        known = dict(zip(needed, values, strict=True))
        return render(deploy.catalog, service, known.__getitem__)

    output = pulumi.Output.all(*[deploy.secret(n) for n in needed]).apply(content)
    return pulumi.Output.secret(output) if GENERATORS[generator].secret else output


def required_secrets(catalog: Catalog, services: list[str]) -> list[str]:
    """Every catalog secret the deployed services need: referenced directly or put into generated files."""
    described = describe_services(catalog)
    needed: set[str] = set()
    for name in services:
        service = described[name]
        needed |= {ref.secret for ref in service.secrets}
        for content in service.generated.values():
            needed |= set(content.secrets)
    return sorted(needed)
