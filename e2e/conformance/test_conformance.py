"""The official MCP conformance suite's server scenarios that apply to a tools-only server, against each of our
MCP servers (issue 14, findings 4 and 9): lifecycle, ping, listing tools, a tool call's error, and DNS-rebinding
protection (a `Host`/`Origin` of evil.example.com must get a 4xx, a loopback one a 2xx).

`tools-call-error` is the suite's tools/call scenario that needs no tool of its own: it calls the suite's
`test_error_handling`, which our servers do not have, and expects an error result. The other tools-call-*
scenarios call test tools (`test_simple_text`, ...) that only the suite's reference server implements.

Our servers answer only the gateway's bearer token and the suite's client sends none: a loopback proxy adds the
server's token (keyed_proxy.py) and passes Host and Origin through, so the rebinding scenario still tests the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conformance.conftest import SERVERS, run_scenario
from e2e.conformance.keyed_proxy import keyed_proxy
from mcpstack.local.server_tokens import server_token
from mcpstack.local.stack import LocalStack

pytestmark = pytest.mark.docker
SCENARIOS = ("server-initialize", "ping", "tools-list", "tools-call-error", "dns-rebinding-protection")


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("server", SERVERS)
def test_conformance_scenario(
    servers_stack: LocalStack, conformance_tool: Path, tmp_path: Path, server: str, scenario: str
) -> None:
    token = server_token(servers_stack.catalog, servers_stack.secrets, server)
    with keyed_proxy(servers_stack.url(server), token) as proxy:
        url = proxy + "/mcp"
        assert url.startswith("http://127.0.0.1:"), url  # the rebinding scenario needs a loopback URL
        checks = run_scenario(conformance_tool, url, scenario, tmp_path)
    failed = [check for check in checks if check["status"] not in ("SUCCESS", "INFO", "WARNING")]
    assert checks and not failed, [
        {key: check.get(key) for key in ("id", "status", "errorMessage", "details")} for check in failed
    ]
