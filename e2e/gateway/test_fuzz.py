"""Schemathesis fuzzes every route's OpenAPI spec through the gateway, with valid and invalid input:
the gateway must never answer 5xx to a bad request (upstream outages aside, which do not happen here)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from e2e.gateway.conftest import Gateway

pytestmark = pytest.mark.docker
EXAMPLES_PER_OPERATION = 25


@pytest.mark.parametrize("route", ["time", "sandbox", "time-reference"])
def test_schemathesis_finds_no_server_errors(gw: Gateway, route: str, tmp_path) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{gw.url}/{route}/openapi.json",
        "--header",
        f"Authorization: Bearer {gw.key('e2e')}",
        "--url",
        f"{gw.url}/{route}",
        "--checks",
        "not_a_server_error",
        "--mode",
        "all",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--request-timeout",
        "20",
        "--seed",
        "1",
        "--no-color",
        "--generation-database",
        "none",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    report = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    generated = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert generated and int(generated[1]) >= EXAMPLES_PER_OPERATION and generated[1] == generated[2], report
