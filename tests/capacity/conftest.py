"""Runs recorded by the real locustfiles against a real dev stack (100 users, 30 s measured, 2-core machine), as
`mcpstack loadtest` leaves them: the record loadtests/common.py writes (every request, the user count each second,
spawning complete) and the runner's samples of the load generator (CPU, connections held, containers' CPU).

data/slo-100-users.json.gz         `mcpstack loadtest --duration 30s`
data/rate-limit-100-users.json.gz  `mcpstack loadtest --scenario rate-limit --duration 30s`

Each test judges them as recorded, or changed in one precise way (a slower endpoint, a user short, ...).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.capacity.locust_run import Target
from mcpstack.capacity.record import LocustRun
from mcpstack.catalog import Catalog, load_catalog

DATA = Path(__file__).parent / "data"


@cache
def _recorded(name: str) -> dict[str, Any]:
    return json.loads(gzip.decompress((DATA / f"{name}.json.gz").read_bytes()))


def recorded_document(name: str) -> dict[str, Any]:
    """The recorded run as stored: started, ended, exit_code, record, samples (and what it was measured on)."""
    return _recorded(name)


def recorded_run(name: str) -> LocustRun:
    """A fresh copy of a recorded run (tests may change it)."""
    return LocustRun.from_json(_recorded(name))


@pytest.fixture(scope="session")
def dev_catalog() -> Catalog:
    return load_catalog(DEFAULT_CONFIG_DIR, "dev")


@pytest.fixture
def dev_target(dev_catalog: Catalog) -> Target:
    return Target("http://127.0.0.1:8080", "key", dev_catalog, None, {})


@pytest.fixture
def run_of() -> Callable[[str], LocustRun]:
    return recorded_run
