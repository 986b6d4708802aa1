"""`mcpstack preflight prod` against API responses of two clusters (tests/infra/data/preflight/), served on
127.0.0.1 with a kubeconfig naming the prod stack's context: the real client path (kubeconfig, context,
token, HTTP GETs) runs; only the API server is a recording. And gVisor as a stack setting."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.gvisor import UNAVAILABLE_UNDER_GVISOR
from infra.render import render_stack
from mcpstack.cli import app

DATA = Path(__file__).parent / "data" / "preflight"
TOKEN = "preflight-test-token"


class Recorded(ThreadingHTTPServer):
    responses: dict[str, object]
    seen: list[tuple[str, str]]


class Handler(BaseHTTPRequestHandler):
    server: Recorded

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization", "")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401})
        elif self.path in self.server.responses:
            self._send(200, self.server.responses[self.path])
        else:
            self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})

    def _send(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    """An API server answering with a recording; KUBECONFIG points the prod stack's context at it."""
    server = Recorded(("127.0.0.1", 0), Handler)
    server.responses, server.seen = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = yaml.safe_load((Path(__file__).parents[2] / "stacks" / "Pulumi.prod.yaml").read_text())["config"][
        "kubernetes:context"
    ]
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "some-other-cluster",  # never used: the stack names its context
        "clusters": [
            {"name": "recorded", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}},
            {"name": "other", "cluster": {"server": "http://127.0.0.1:9"}},
        ],
        "users": [{"name": "tester", "user": {"token": TOKEN}}],
        "contexts": [
            {"name": context, "context": {"cluster": "recorded", "user": "tester"}},
            {"name": "some-other-cluster", "context": {"cluster": "other", "user": "tester"}},
        ],
    }
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def load(server: Recorded, recording: str) -> None:
    server.responses = json.loads((DATA / f"{recording}.json").read_text())["responses"]


def rows(output: str) -> dict[str, str]:
    """check -> the rest of its table row (rich's box characters as separators)."""
    found = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) >= 5 and cells[1]:
            found[cells[1]] = " | ".join(cells[2:5])
    return found


def test_a_cluster_without_gvisor_and_gpus_fails_with_a_readable_table(cluster: Recorded) -> None:
    load(cluster, "no-gvisor-no-gpu")
    result = CliRunner().invoke(app, ["preflight", "prod"], terminal_width=240)
    assert result.exit_code == 1, result.output
    table = rows(result.stdout)
    assert table["RuntimeClass gvisor (sandbox)"] == "exists | absent | FAIL"
    assert table["GPU nodes"] == "a node with 1 allocatable nvidia.com/gpu | none of 2 node(s) | FAIL"
    assert table["IngressClass nginx"].endswith("| ok")
    assert table["database extensions"].endswith("| not checked")
    assert "2 required precondition(s) missing" in result.stderr
    assert "RuntimeClass gvisor (sandbox), GPU nodes" in result.stderr
    assert {auth for _, auth in cluster.seen} == {f"Bearer {TOKEN}"}
    assert "/apis/node.k8s.io/v1/runtimeclasses/gvisor" in [path for path, _ in cluster.seen]


def test_a_prepared_cluster_passes(cluster: Recorded) -> None:
    load(cluster, "good-cluster")
    result = CliRunner().invoke(app, ["preflight", "prod"], terminal_width=240)
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert table["RuntimeClass gvisor (sandbox)"] == "exists | handler runsc | ok"
    assert table["GPU nodes"].startswith("a node with 1 allocatable nvidia.com/gpu | gpu-1 | ok")
    assert "nfs-rwx: provisioner nfs.csi.k8s.io" in table["shared storage class (ReadWriteMany, Open WebUI)"]
    assert table["images pushed to registry.example.com/mcpstack-images"].endswith("| ok")
    assert not [r for r in table.values() if r.endswith("FAIL")]


def test_a_missing_shared_storage_class_or_ingress_namespace_fails(cluster: Recorded) -> None:
    load(cluster, "good-cluster")
    del cluster.responses["/api/v1/namespaces/ingress-nginx"]
    cluster.responses["/apis/storage.k8s.io/v1/storageclasses"]["items"].pop()  # nfs-rwx
    result = CliRunner().invoke(app, ["preflight", "prod"], terminal_width=240)
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert (
        table["shared storage class (ReadWriteMany, Open WebUI)"]
        == "nfs-rwx exists | nfs-rwx absent (standard-rwo) | FAIL"
    )
    assert table["namespace ingress-nginx"].endswith("absent | FAIL")


def test_an_unreachable_cluster_exits_1_naming_it(cluster: Recorded) -> None:
    cluster.shutdown()
    cluster.server_close()
    result = CliRunner().invoke(app, ["preflight", "prod"])
    assert result.exit_code == 1
    assert "cannot read the cluster of stack prod" in result.stderr


def _sandbox(rendered_stack: object) -> dict:
    return rendered_stack.find("Deployment", "sandbox")["spec"]["template"]["spec"]  # type: ignore[attr-defined]


def test_gvisor_is_a_stack_setting_and_off_requires_every_layer() -> None:
    on = _sandbox(render_stack("prod"))
    off = _sandbox(render_stack("prod", overrides={"gvisor": False}))
    layers = {
        name: {e["value"] for e in spec["containers"][0]["env"] if e["name"] == "SANDBOX_REQUIRED_LAYERS"}.pop()
        for name, spec in (("on", on), ("off", off))
    }
    assert on["runtimeClassName"] == "gvisor"
    assert layers["on"] == "process_group,scrubbed_env,rlimits,seccomp"
    assert "runtimeClassName" not in off
    assert set(layers["off"].split(",")) >= UNAVAILABLE_UNDER_GVISOR  # namespaces required again
