"""The variants of the dev catalog that capacity runs deploy on their own stack (mcpstack.local.variants): edits of
the catalog and overlay documents before they are loaded."""

from __future__ import annotations

from typing import Any

UNLIMITED = 10**9  # calls per minute: no limit a run can reach


def lift_rate_limits(catalog: dict[str, Any], _overlay: dict[str, Any]) -> None:
    """Every gateway's rate limits out of the way: a run measuring the stack would otherwise measure the limits."""
    for service in catalog["services"].values():
        if service.get("kind") == "gateway":
            service["gateway"]["rate_limits"].update(per_client_per_minute=UNLIMITED, global_per_minute=UNLIMITED)


def knee_stack(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    """The knee's stack: the catalog as shipped, rate limits lifted, and no Open WebUI - it is not on the measured
    path (the load generator plays its part) and would take CPU."""
    lift_rate_limits(catalog, overlay)
    overlay.setdefault("local", {}).setdefault("skip", []).append("open-webui")
