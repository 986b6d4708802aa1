"""The tool-list watch's bookkeeping: who is woken by a change, whose tools a fingerprint covers, and the per-caller
and total limits on open streams (a caller that opens streams without end is refused, nobody else is)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from servers.gateway.edge import Refusal
from servers.gateway.tenancy import Caller
from servers.gateway.tool_list_watch import ToolListWatch, fingerprint, stream_holder


@dataclass(frozen=True)
class FakeTool:
    name: str
    description: str = ""

    def model_dump(self, **_: Any) -> dict[str, Any]:
        return {"name": self.name, "description": self.description}


def caller(client: str = "e2e", user: str | None = None, verified: bool = True) -> Caller:
    return Caller(client=client, tenant="platform", user_id=user, verified=verified)


def test_a_fingerprint_covers_only_the_tools_a_caller_may_see() -> None:
    tools = [FakeTool("echo"), FakeTool("grow")]
    grown = [*tools, FakeTool("added")]
    assert fingerprint(tools, {"echo"}) == fingerprint(grown, {"echo"})  # staff sees no difference
    assert fingerprint(tools, None) != fingerprint(grown, None)
    assert fingerprint(tools, None) != fingerprint([FakeTool("echo", "new words"), FakeTool("grow")], None)
    assert fingerprint(list(reversed(tools)), None) == fingerprint(tools, None)  # the order is not a change


def test_a_change_wakes_the_subscriptions_of_that_upstream_only() -> None:
    watch = ToolListWatch(per_caller=4, total=10)
    with watch.subscribe(frozenset({"time", "probe"}), caller()) as virtual:  # a virtual server's: both
        watch.publish("probe")
        assert virtual.changed.is_set()
    with (
        watch.subscribe(frozenset({"time"}), caller()) as on_time,
        watch.subscribe(frozenset({"probe"}), caller()) as on_probe,
    ):
        watch.publish("time")
        assert on_time.changed.is_set() and not on_probe.changed.is_set()
    watch.publish("time")  # nobody listens: nothing to do


def test_streams_are_limited_per_caller_and_in_total_and_given_back_on_close() -> None:
    watch = ToolListWatch(per_caller=2, total=3)
    with watch.subscribe(frozenset({"time"}), caller()), watch.subscribe(frozenset({"time"}), caller()):
        with pytest.raises(Refusal) as refused, watch.subscribe(frozenset({"time"}), caller()):
            pass
        assert refused.value.kind.status == 429 and "2" in refused.value.detail
        with watch.subscribe(frozenset({"time"}), caller("open-webui", "u1")):  # another caller's share
            with pytest.raises(Refusal) as full, watch.subscribe(frozenset({"time"}), caller("open-webui", "u2")):
                pass
            assert "all in use" in full.value.detail
    assert watch.open_streams == 0
    with watch.subscribe(frozenset({"time"}), caller()):
        assert watch.open_streams == 1


def test_only_a_verified_user_has_a_share_of_its_own() -> None:
    assert stream_holder(caller("open-webui", "u1")) == "user:u1"
    assert stream_holder(caller("open-webui", "u1", verified=False)) == "client:open-webui"  # asserted, not proven
    assert stream_holder(caller("e2e")) == "client:e2e"
