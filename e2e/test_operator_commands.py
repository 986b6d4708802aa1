"""The verification commands as operators run them, against the suite's running stack: `mcpstack smoke --stack`
(with --output json, as scripts read it) and `mcpstack e2e --target FILE`, the check docs/deploy.md gives after
`pulumi up`, here with a target file describing the local stack the way one describes a deployed one (URLs,
credentials in named environment variables). Each runs the smoke suite in a subprocess (~30 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from e2e.target import Target
from mcpstack import REPO_ROOT
from mcpstack.local.stack import LocalStack

pytestmark = [pytest.mark.docker]

MCPSTACK = Path(sys.executable).with_name("mcpstack")
SMOKE_CHECKS = 9  # e2e -m smoke: e2e/test_smoke.py and the smoke-marked chat checks


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MCPSTACK), *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_smoke_json_reports_every_check_passed(stack: LocalStack) -> None:
    done = _run("smoke", "--stack", stack.name, "--output", "json")
    document = json.loads(done.stdout)  # stdout is the document alone; pytest's own output went to stderr
    assert done.returncode == 0, done.stderr[-3000:]
    assert document["stack"] == stack.name
    assert document["passed"] is True
    assert len(document["checks"]) >= SMOKE_CHECKS
    assert {c["outcome"] for c in document["checks"]} == {"passed"}, document["checks"]


def _describe(stack: LocalStack, path: Path) -> dict[str, str]:
    """A target file for the stack, as one is written for a deployed stack; the credentials' variables."""
    target = Target.from_stack(stack)
    assert target.open_webui is not None
    path.write_text(
        yaml.safe_dump(
            {
                "environment": stack.catalog.environment,
                "gateway": {"url": target.gateway_url, "key_env": "E2E_GATEWAY_KEY"},
                "prometheus": {"url": target.prometheus_url},
                "open_webui": {
                    "url": target.open_webui.url,
                    "email": target.open_webui.email,
                    "password_env": "E2E_WEBUI_PASSWORD",
                },
            }
        )
    )
    return {"E2E_GATEWAY_KEY": target.gateway_key, "E2E_WEBUI_PASSWORD": target.open_webui.password}


def test_e2e_target_verifies_a_stack_described_by_a_file(stack: LocalStack, tmp_path: Path) -> None:
    described = tmp_path / "target.yaml"
    credentials = _describe(stack, described)
    done = _run("e2e", "--target", str(described), "-m", "smoke", env=credentials)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "smoke verification" in done.stdout
    assert done.stdout.count("passed") >= SMOKE_CHECKS


def test_e2e_target_fails_with_a_wrong_gateway_key(stack: LocalStack, tmp_path: Path) -> None:
    described = tmp_path / "target.yaml"
    credentials = _describe(stack, described) | {"E2E_GATEWAY_KEY": "not-the-key"}
    done = _run("e2e", "--target", str(described), "-m", "smoke", env=credentials)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "401" in done.stdout
