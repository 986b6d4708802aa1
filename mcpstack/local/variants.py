"""Stacks built from a variant of the real catalog, for suites and benchmarks that need other settings (short time
limits, small rate limits, an extra route). Everything not changed is the catalog as shipped."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.local.stack import LocalStack

Mutation = Callable[[dict[str, Any], dict[str, Any]], None]  # (catalog, dev overlay) -> None, in place


def drop_route(catalog: dict[str, Any], route: str, gateway: str = "mcpo") -> None:
    """Remove a gateway route and what names it: tenants' tools, virtual servers' members (a virtual server left
    with none goes too), SLO endpoints on it."""
    settings = catalog["services"][gateway]["gateway"]
    del settings["routes"][route]
    for tenant in catalog["tenancy"]["tenants"].values():
        tenant["tools"].pop(route, None)
        tenant.get("credentials", {}).pop(route, None)
    virtual_servers = settings.get("virtual_servers", {})
    for name, virtual in list(virtual_servers.items()):
        virtual["routes"] = [member for member in virtual["routes"] if member != route]
        if not virtual["routes"]:
            del virtual_servers[name]
    endpoints = catalog.get("slos", {}).get("endpoints", {})
    for endpoint in [e for e in endpoints if e.split("/")[0] == route]:
        del endpoints[endpoint]


def write_variant(directory: Path, mutate: Mutation) -> Path:
    shutil.copytree(DEFAULT_CONFIG_DIR, directory)
    catalog = yaml.safe_load((directory / "catalog.yaml").read_text())
    overlay = yaml.safe_load((directory / "environments" / "dev.yaml").read_text())
    mutate(catalog, overlay)
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    (directory / "environments" / "dev.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
    return directory


@contextmanager
def variant_stack(directory: Path, mutate: Mutation, prefix: str) -> Iterator[LocalStack]:
    """A stack of the variant on free host ports; removed (with its volumes and secrets) afterwards."""
    config = write_variant(directory, mutate)
    stack = LocalStack(
        load_catalog(config, "dev"), name=f"{prefix}-{uuid.uuid4().hex[:6]}", fixed_host_ports=False, log=lambda _: None
    )
    try:
        stack.up()
        yield stack
    finally:
        stack.down(volumes=True)
        stack.purge_state()
