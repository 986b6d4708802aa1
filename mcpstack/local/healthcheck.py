"""Docker's health check of a service: its readiness probe run inside the container.

`mcpstack up` probes each service from the host while it starts; the container's own health check is what
`docker ps`, a restart and Compose's `depends_on: condition: service_healthy` see. It runs python3, else
wget for HTTP probes, so images without either (distroless ones) stay "unhealthy" in `docker ps` only.
"""

from __future__ import annotations

from typing import Any

from mcpstack.deployment import Health
from mcpstack.local.spec import ContainerSpec

NANOSECONDS = 1_000_000_000
TIMING = Health(live=None, ready=None)  # the deployed services' probe timings (the Kubernetes probes' too)
HTTP_CHECK = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)"
TCP_CHECK = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2)"


def healthcheck(spec: ContainerSpec, timing: Health = TIMING) -> dict[str, Any] | None:
    """Docker's health check of the service's readiness probe, run inside the container (python3, else
    wget for HTTP); `up` itself probes from the host. None for a service without a probe."""
    if spec.ready is None:
        return None
    path, port_name = spec.ready
    port = spec.ports[port_name]
    if path is None:
        test = f"python3 -c {_quote(TCP_CHECK)} {port}"
    else:
        url = f"http://127.0.0.1:{port}{path}"
        test = f"python3 -c {_quote(HTTP_CHECK)} {url} 2>/dev/null || wget -q -O /dev/null {url}"
    startup, readiness = timing.startup, timing.readiness
    return {
        "test": ["CMD-SHELL", test],
        "interval": readiness.period_seconds * NANOSECONDS,
        "timeout": (readiness.timeout_seconds or 3) * NANOSECONDS,
        "retries": readiness.failure_threshold,
        "start_period": startup.period_seconds * startup.failure_threshold * NANOSECONDS,
    }


def _quote(code: str) -> str:
    return "'" + code.replace("'", "'\"'\"'") + "'"
