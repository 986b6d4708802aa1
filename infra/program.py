"""The Pulumi program both stacks run (stacks/__main__.py calls `run`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from infra.components.platform import DevPlatform, ProdPlatform, needed_secrets
from infra.settings import PROJECT, StackSettings
from mcpstack.catalog import Catalog, CatalogError, load_catalog


class StackConfigError(pulumi.RunError):
    pass


def load(settings: StackSettings) -> Catalog:
    try:
        return load_catalog(settings.config_dir, settings.environment)
    except CatalogError as exc:
        problems = "\n".join(str(p) for p in exc.problems)
        raise StackConfigError(f"the catalog for {settings.environment!r} is invalid:\n{problems}") from None


def secret_source(catalog: Catalog, helm: bool) -> Callable[[str], pulumi.Output[str]]:
    """Catalog secret -> its value from secret config (`pulumi config set --secret mcpstack:NAME`);
    every missing one is named at once, before anything is created."""
    config = pulumi.Config(PROJECT)
    needed = needed_secrets(catalog, helm)
    missing = [name for name in needed if config.get_secret(name) is None]
    if missing:
        commands = "\n".join(f"  pulumi config set --secret {PROJECT}:{name} VALUE" for name in missing)
        raise StackConfigError(f"missing secret config for {pulumi.get_stack()}:\n{commands}")

    @cache
    def secret(name: str) -> pulumi.Output[str]:
        return config.require_secret(name)

    return secret


def cluster(settings: StackSettings) -> k8s.Provider:
    """The one Kubernetes provider every resource uses: the stack's declared context (and kubeconfig),
    never whatever kubectl context is current; objects without a namespace land in the stack's."""
    return k8s.Provider(
        "cluster",
        context=settings.kube_context or None,
        kubeconfig=settings.kubeconfig or None,
        namespace=settings.namespace,
    )


def run(project_dir: Path) -> DevPlatform | ProdPlatform:
    settings = StackSettings.from_pulumi(project_dir)
    catalog = load(settings)
    platform_type = ProdPlatform if settings.helm else DevPlatform
    provider = cluster(settings)
    platform = platform_type(
        PROJECT,
        catalog,
        settings,
        secret_source(catalog, settings.helm),
        opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
    )
    pulumi.export("environment", catalog.environment)
    pulumi.export("cluster", {"context": settings.kube_context or "(current)", "namespace": platform.namespace})
    pulumi.export("namespace", platform.namespace)
    pulumi.export("services", platform.urls)
    pulumi.export("external", platform.external_urls)
    return platform
