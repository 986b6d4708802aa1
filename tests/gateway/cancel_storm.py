"""A storm of cancelled tool calls on one upstream session over stdio: the gateway's `GatewayClientSession` to the
reference time server (as mcpo opens it), 30 rounds of 100 concurrent tools/calls all cancelled while in flight
(as when wrk's 100 connections are cut, or 100 callers hang up), each round followed by a call that must answer.

SDK 1.30 alone does not survive it: a response that arrives while its request's waiter is being cancelled is sent
to a stream the waiter has just closed, the session's receive loop dies of `BrokenResourceError`, and the stdio
transport's task group cancels the connection (the gateway saw its stdio upstream "lost: connection closed" at the
end of benchmark runs). Prints one JSON line: the rounds survived and, if the session died, why.

Needs the gateway's MCP SDK (mcp<2) and the reference server, so it runs inside the gateway image:
e2e/gateway/test_upstream_calls.py runs `python -m tests.gateway.cancel_storm` there.
"""

from __future__ import annotations

import asyncio
import json

from mcp import StdioServerParameters
from mcp.client.stdio import stdio_client

from servers.gateway.mcp_session import GatewayClientSession
from servers.gateway.upstreams import describe_error

SERVER = StdioServerParameters(
    command="/opt/mcp-stdio/time-reference/bin/mcp-server-time", args=["--local-timezone", "UTC"]
)
ROUNDS, CALLS = 30, 100
ARGUMENTS = {"timezone": "UTC"}


async def storm(survived: list[int]) -> None:
    async with stdio_client(SERVER) as (read, write), GatewayClientSession(read, write) as session:
        await session.initialize()
        for round_ in range(ROUNDS):
            calls = [asyncio.ensure_future(session.call_tool("get_current_time", ARGUMENTS)) for _ in range(CALLS)]
            await asyncio.sleep(0.002 * (round_ % 10))  # cancelled before, while and after they are answered
            for call in calls:
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            after = await asyncio.wait_for(session.call_tool("get_current_time", ARGUMENTS), 10)
            assert not after.isError, after
            survived.append(round_)


async def main() -> dict[str, object]:
    survived: list[int] = []
    try:
        await asyncio.wait_for(storm(survived), 120)
    except BaseException as exc:  # the session (or its transport) died: report why
        return {"survived": len(survived), "rounds": ROUNDS, "died": describe_error(exc)}
    return {"survived": len(survived), "rounds": ROUNDS, "died": None}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
