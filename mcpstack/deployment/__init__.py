"""One typed view of a deployed service, built from the catalog; the Docker runtime and the Kubernetes
manifests are both renderings of it, labelled with one scheme (mcpstack.deployment.labels)."""

from mcpstack.deployment.build import describe_service, describe_services, generated_content
from mcpstack.deployment.model import (
    DeployedService,
    Generated,
    Health,
    Port,
    Probe,
    Resources,
    SecretMount,
    Security,
    Timing,
    Volume,
)

__all__ = [
    "DeployedService",
    "Generated",
    "Health",
    "Port",
    "Probe",
    "Resources",
    "SecretMount",
    "Security",
    "Timing",
    "Volume",
    "describe_service",
    "describe_services",
    "generated_content",
]
