"""Scrape coverage: every service the platform runs is either scraped by Prometheus (`metrics`) or says why not
(`metrics_unavailable`), so a blind spot is a decision written down, never an omission."""

from __future__ import annotations

from collections.abc import Iterator

from mcpstack.catalog.models import Catalog
from mcpstack.catalog.paths import KeyPath


def check_scrape_coverage(catalog: Catalog) -> Iterator[tuple[KeyPath, str]]:
    """Long-running services with neither `metrics` nor `metrics_unavailable`, or with both. Local stand-ins
    (`local_only`: test doubles) are exempt: the coverage of the service they stand in for applies."""
    for name, service in catalog.services.items():
        if service.local_only:
            continue
        if service.metrics is None and service.metrics_unavailable is None:
            yield (
                ("services", name),
                "Prometheus does not scrape it: declare `metrics` (its endpoint) or `metrics_unavailable` (why not)",
            )
        elif service.metrics is not None and service.metrics_unavailable is not None:
            yield ("services", name, "metrics_unavailable"), "it declares `metrics` too: give one of the two"


def unscraped(catalog: Catalog) -> dict[str, str]:
    """Service -> why Prometheus does not scrape it (the catalog's `metrics_unavailable`)."""
    return {
        name: " ".join(service.metrics_unavailable.split())
        for name, service in sorted(catalog.services.items())
        if service.metrics is None and service.metrics_unavailable is not None
    }
