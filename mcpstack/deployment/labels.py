"""The one label scheme of mcpstack: every key under `mcpstack.io/`.

The keys are valid Kubernetes label keys (DNS-subdomain prefix, short name) and equally valid Docker
labels, so the local Docker runtime and the Kubernetes manifests label the same service the same way.
Kubernetes objects add the recommended `app.kubernetes.io/*` labels on top (infra.manifests).
"""

from __future__ import annotations

PREFIX = "mcpstack.io/"
SERVICE = PREFIX + "service"  # the catalog service (Kubernetes: the pod selector)
ENVIRONMENT = PREFIX + "environment"  # the catalog environment (dev, prod, ...)
STACK = PREFIX + "stack"  # local Docker: the stack a container, network or volume belongs to
SPEC_HASH = PREFIX + "spec-hash"  # local Docker: fingerprint of what the container runs (`up` recreates on change)
KEYS = (SERVICE, ENVIRONMENT, STACK, SPEC_HASH)


def service_labels(service: str, environment: str) -> dict[str, str]:
    """The labels every rendering of a deployed service carries."""
    return {SERVICE: service, ENVIRONMENT: environment}


def selector(service: str) -> dict[str, str]:
    """The labels that pick out one service's containers or pods."""
    return {SERVICE: service}


def ours(labels: dict[str, str]) -> dict[str, str]:
    """The labels of this scheme among any others."""
    return {key: value for key, value in labels.items() if key.startswith(PREFIX)}
