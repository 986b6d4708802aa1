"""The sandbox under gVisor: which of its layers it can still require there.

gVisor's own kernel is the boundary; inside it bubblewrap cannot make namespaces, nor mount the
size-capped scratch that limits inodes (docs/sandbox.md). With the stack's `gvisor` setting on, the
sandbox's required layers are the catalog's minus those; off, the catalog's list applies unchanged, so
a sandbox on a node where they fail refuses to start (a failing readiness probe) rather than run weaker.
"""

from __future__ import annotations

from dataclasses import replace

from mcpstack.deployment import DeployedService

REQUIRED_LAYERS_ENV = "SANDBOX_REQUIRED_LAYERS"
UNAVAILABLE_UNDER_GVISOR = frozenset(
    {
        "user_namespace",
        "mount_namespace",
        "network_namespace",
        "pid_namespace",
        "ipc_namespace",
        "inode_limits",
    }
)


def under_gvisor(service: DeployedService) -> DeployedService:
    """The service as it runs under gVisor: its required layers without those gVisor cannot provide."""
    layers = [layer.strip() for layer in service.env.get(REQUIRED_LAYERS_ENV, "").split(",") if layer.strip()]
    if not layers:
        return service
    kept = ",".join(layer for layer in layers if layer not in UNAVAILABLE_UNDER_GVISOR)
    return replace(service, env={**service.env, REQUIRED_LAYERS_ENV: kept})
