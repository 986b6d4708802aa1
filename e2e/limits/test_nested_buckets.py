"""Finding 3 of issue 14: per-user buckets sit inside their client's bucket. A key that forwards users and rotates
X-OpenWebUI-User-Id gets a fresh per-user bucket per user, but all of them draw on the client's own share
(`rate_limits.forwarding_client_share` of the global limit), so it cannot exceed that share or drain the global
bucket: other clients keep being served."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from e2e.gateway.conftest import Gateway, problem
from mcpstack.local.variants import variant_stack

pytestmark = pytest.mark.docker
PER_USER, GLOBAL, SHARE = 5, 40, 0.5
CLIENT_SHARE = math.floor(GLOBAL * SHARE)


def small_in_process_limits(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    catalog["services"]["mcpo"]["gateway"]["rate_limits"].update(
        per_client_per_minute=PER_USER, global_per_minute=GLOBAL, forwarding_client_share=SHARE
    )
    catalog["slos"]["load"].update(users=1, think_time_seconds={"min": 60, "max": 60})
    overlay["local"]["skip"].append("open-webui")
    catalog["services"]["mcpo"]["command"] += ["--workers", "1"]  # one process: all buckets, all metrics


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with variant_stack(tmp_path_factory.mktemp("nested") / "config", small_in_process_limits, "mcpstack-nb") as stack:
        yield Gateway(stack)


def call(gw: Gateway, client: str, **user: str) -> int:
    return gw.post("/time/get_current_time", {"timezone": "UTC"}, client=client, signed=False, **user).status_code


def test_one_user_is_held_to_the_per_user_limit_inside_the_share(gw: Gateway) -> None:
    steady = {"user_id": "steady", "email": "steady@example.com"}  # a staff member, signed by Open WebUI
    statuses = [
        gw.post("/time/get_current_time", {"timezone": "UTC"}, client="open-webui", **steady).status_code
        for _ in range(PER_USER + 1)
    ]
    assert statuses == [200] * PER_USER + [429]


def test_rotating_user_ids_cannot_exceed_the_clients_share_or_drain_the_global_bucket(gw: Gateway) -> None:
    # as the capacity test's virtual users do: an id of its own and the platform tenant's role
    started = time.monotonic()
    rotated = [call(gw, "loadtest", user_id=f"rotating-{i}", role="admin") for i in range(2 * GLOBAL)]
    refilled = math.ceil((time.monotonic() - started) * CLIENT_SHARE / 60)  # the share's tokens meanwhile
    accepted = rotated.count(200)
    assert CLIENT_SHARE <= accepted <= CLIENT_SHARE + refilled, f"{accepted} accepted with {2 * GLOBAL} user IDs"
    refused = gw.post(
        "/time/get_current_time", {"timezone": "UTC"}, client="loadtest", signed=False, user_id="one-more"
    )
    assert "client rate limit" in problem(refused, 429, "rate-limited")["detail"]
    # e2e forwards no users: its own bucket (PER_USER) is all it may take, and the global bucket still has it
    others = [call(gw, "e2e") for _ in range(PER_USER)]
    assert others == [200] * PER_USER, "the global bucket was drained by one key"
