"""The sandbox container doing its job: good code runs, packages install from the stack's index, the
layers the catalog requires are on and reported, the pool turns excess load into "busy", and the
gateway route works end to end."""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from e2e.sandbox.conftest import SandboxClient, dump
from mcpstack.local.stack import LocalStack

pytestmark = pytest.mark.docker
REQUIRED = {
    "process_group",
    "scrubbed_env",
    "rlimits",
    "seccomp",
    "user_namespace",
    "mount_namespace",
    "network_namespace",
    "pid_namespace",
    "ipc_namespace",
    "inode_limits",
}


def test_health_reports_every_required_layer_on(sandbox: SandboxClient) -> None:
    health = sandbox.health()
    assert set(health["isolation"]["required"]) == REQUIRED
    assert set(health["isolation"]["layers"]) >= REQUIRED
    # in a container without extra privileges: no fresh /proc, and runs share the server's uid (mapped to 1000)
    assert set(health["isolation"]["unavailable"]) == {"private_proc", "separate_user"}
    assert health["packages"] is True
    assert health["runs"]["max_concurrent"] == 2


def test_metrics_report_the_layers(sandbox: SandboxClient) -> None:
    for layer in REQUIRED:
        assert sandbox.metric("sandbox_isolation_layer", layer=layer, required="true") == 1
    assert sandbox.metric("sandbox_isolation_layer", layer="private_proc", required="false") == 0


def test_the_container_runs_as_configured(sandbox: SandboxClient) -> None:
    host_config = sandbox.container.attrs["HostConfig"]
    assert sandbox.container.attrs["Config"]["User"] == "10101:10101"  # a uid of its own (test_quotas.py)
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["CapDrop"] == ["ALL"]
    assert host_config["PidsLimit"] == 512
    options = host_config["SecurityOpt"]
    assert "no-new-privileges:true" in options
    assert any(option.startswith("seccomp=") and '"keyctl"' in option for option in options)
    assert sandbox.exec("sh", "-c", "find / -xdev -perm /6000 -type f 2>/dev/null | wc -l").strip() == "0"


def test_stdlib_multi_line_unicode_and_fibonacci(sandbox: SandboxClient) -> None:
    code = (
        "import json, statistics, textwrap\n\n"
        "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n"
        "print(fibonacci(10))\n"
        "print(json.dumps({'mean': statistics.mean([1, 2, 3, 4])}))\n"
        "print(textwrap.shorten('héllo wörld ✓ 日本語 🐍 and more words', width=20))\n"
    )
    result = sandbox.run(code)
    assert (result["exit_code"], result["stderr"]) == (0, ""), dump(result)
    assert result["stdout"] == '55\n{"mean": 2.5}\nhéllo wörld ✓ [...]\n'


def test_a_program_reading_stdin_gets_eof_and_a_message(sandbox: SandboxClient) -> None:
    result = sandbox.run("name = input('Your name? ')\nprint('hello', name)")
    assert result["exit_code"] == 1
    assert "EOFError" in result["stderr"]
    assert "stdin" in result["message"]


def test_a_package_from_the_index_for_one_run(sandbox: SandboxClient) -> None:
    result = sandbox.run("import mcpstack_demo\nprint(mcpstack_demo.greet())", packages=["mcpstack-demo==1.0.0"])
    assert result["stdout"] == "hello from a wheel\n", dump(result)
    assert result["packages"] == ["mcpstack-demo==1.0.0"]
    assert sandbox.run("import mcpstack_demo")["exit_code"] == 1  # gone for the next run


@pytest.mark.parametrize(
    "hostile",
    [
        "import os\nwhile True:\n    os.fork()",
        "x = []\nwhile True:\n    x.append(bytearray(10**7))",
        "while True:\n    pass",
    ],
    ids=["fork-bomb", "memory-bomb", "cpu-spin"],
)
def test_a_hostile_run_does_not_disturb_a_concurrent_one(sandbox: SandboxClient, hostile: str) -> None:
    good = "import hashlib\nprint(hashlib.sha256(b'x' * 10**6).hexdigest()[:12], sum(range(10**6)))"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        bad_run = pool.submit(sandbox.call, hostile, "hostile", timeout_seconds=4)
        time.sleep(0.3)  # the hostile run first
        good_run = pool.submit(sandbox.call, good, "good", timeout_seconds=20)
        result, bad = good_run.result(), bad_run.result()
    assert "error" not in bad, bad
    assert (result.get("stdout"), result.get("exit_code")) == ("1b977e9f84f1 499999500000\n", 0), dump(result)


def test_through_the_gateway(sandbox_stack: LocalStack, sandbox: SandboxClient) -> None:
    key = sandbox_stack.secrets.value(sandbox_stack.catalog.services["mcpo"].gateway.clients["e2e"].secret)
    with httpx.Client(base_url=sandbox_stack.url("mcpo"), headers={"Authorization": f"Bearer {key}"}, timeout=30) as gw:
        assert gw.post("/sandbox/execute_python", json={"code": "print(2+2)"}).json()["stdout"] == "4\n"
        escape = gw.post(
            "/sandbox/execute_python",
            json={"code": "import socket\nsocket.create_connection(('mcpo', 8080), timeout=2)"},
        ).json()
        assert escape["exit_code"] == 1 and ("gaierror" in escape["stderr"] or "Error" in escape["stderr"])
        denied = gw.post("/sandbox/execute_python", json={"code": "print(1)", "packages": ["colourama"]}).json()
        assert denied["stopped_reason"] == "denied_package"
        spec = gw.get("/sandbox/openapi.json").json()
    schema = spec["paths"]["/execute_python"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"code", "timeout_seconds", "packages"}


def test_prometheus_scrapes_the_sandbox_metrics(sandbox_stack: LocalStack, sandbox: SandboxClient) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=sandbox_stack.url("prometheus"), timeout=10) as prometheus:
        while True:
            found = prometheus.get("/api/v1/query", params={"query": "sandbox_isolation_layer"}).json()
            layers = {r["metric"]["layer"] for r in found["data"]["result"]}
            if layers >= REQUIRED:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"Prometheus has no sandbox_isolation_layer series for {REQUIRED - layers}")
            time.sleep(1)
