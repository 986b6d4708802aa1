"""How the MCP front names tools and finds a call's route: a route's endpoint keeps the upstream's names, a virtual
server names each tool ROUTE_TOOL and finds the route by the first `_` (route names are DNS labels)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servers.gateway.front_request import FrontRequest, Member
from servers.gateway.tenancy import Caller

CALLER = Caller(client="e2e", tenant="platform")


@dataclass(frozen=True)
class FakeUpstream:
    name: str


@dataclass(frozen=True)
class FakeTool:
    name: str

    def model_dump(self, **_: Any) -> dict[str, Any]:
        return {"name": self.name}


def front(*routes: str, virtual: bool) -> FrontRequest:
    members = tuple(Member(route, FakeUpstream(route), None) for route in routes)  # type: ignore[arg-type]
    return FrontRequest("all" if virtual else routes[0], CALLER, "req-1", members, virtual=virtual)


def test_a_routes_endpoint_keeps_the_upstreams_names_and_sends_every_name_upstream() -> None:
    plain = front("time", virtual=False)
    member = plain.members[0]
    assert plain.exposed(member, "get_current_time") == "get_current_time"
    assert plain.target("no_such_tool") == (member, "no_such_tool")  # the upstream answers for its own names


def test_a_virtual_server_names_tools_by_route_and_finds_the_route_by_the_first_underscore() -> None:
    virtual = front("time", "time-reference", "sandbox", virtual=True)
    time, reference, sandbox = virtual.members
    assert virtual.exposed(reference, "get_current_time") == "time-reference_get_current_time"
    assert virtual.target("time-reference_get_current_time") == (reference, "get_current_time")
    assert virtual.target("sandbox_execute_python") == (sandbox, "execute_python")
    assert virtual.target("time_get__odd_name") == (time, "get__odd_name")  # the tool's own `_`s stay its own
    for unknown in ("github_search", "time", "time_", "_get_current_time", "get_current_time"):
        assert virtual.target(unknown) is None, unknown
    assert virtual.upstream_names == {"time", "time-reference", "sandbox"}


def test_a_virtual_servers_fingerprint_changes_with_any_member_and_counts_a_missing_one() -> None:
    virtual = front("time", "sandbox", virtual=True)
    tools = [FakeTool("a")]
    base = virtual.fingerprint([tools, tools])
    assert virtual.fingerprint([tools, [*tools, FakeTool("b")]]) != base
    assert virtual.fingerprint([tools, None]) not in (None, base)  # a member gone is a change
    assert virtual.fingerprint([None, None]) is None
    assert front("time", virtual=False).fingerprint([None]) is None
