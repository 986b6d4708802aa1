"""Read-only access to a cluster's API from a kubeconfig: the context the stack names, its server, and
its credentials (client certificate, bearer token, CA), over plain HTTPS with httpx."""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml


class ClusterError(RuntimeError):
    pass


@dataclass
class Cluster:
    """GET on the API server; `None` for 404 (the thing is absent), ClusterError on anything else."""

    server: str
    context: str
    client: httpx.Client

    def get(self, path: str) -> dict[str, Any] | None:
        try:
            response = self.client.get(self.server.rstrip("/") + path)
        except httpx.HTTPError as exc:
            raise ClusterError(f"{self.server}{path}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ClusterError(f"{self.server}{path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()


def kubeconfig_path(configured: str) -> Path:
    if configured:
        return Path(configured).expanduser()
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first).expanduser() if first else Path.home() / ".kube" / "config"


def _named(items: list[dict[str, Any]], name: str, what: str) -> dict[str, Any]:
    for item in items or []:
        if item.get("name") == name:
            return item.get(what) or {}
    raise ClusterError(f"kubeconfig has no {what} named {name!r}")


def _material(entry: dict[str, Any], key: str, scratch: Path) -> str | None:
    """A file path for `key` (e.g. client-certificate) or its inline `key-data`, written to a private file."""
    if entry.get(key):
        return str(Path(entry[key]).expanduser())
    data = entry.get(f"{key}-data")
    if not data:
        return None
    path = scratch / key
    path.write_bytes(base64.b64decode(data))
    path.chmod(0o600)
    return str(path)


def connect(kubeconfig: str, context: str, timeout: float = 10.0) -> Cluster:
    """The cluster of `context` (empty: the kubeconfig's current context) in `kubeconfig` (empty: $KUBECONFIG
    or ~/.kube/config)."""
    path = kubeconfig_path(kubeconfig)
    if not path.is_file():
        raise ClusterError(f"no kubeconfig at {path}")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    name = context or config.get("current-context") or ""
    ctx = _named(config.get("contexts", []), name, "context")
    cluster = _named(config.get("clusters", []), ctx.get("cluster", ""), "cluster")
    user = _named(config.get("users", []), ctx.get("user", ""), "user") if ctx.get("user") else {}
    scratch = Path(tempfile.mkdtemp(prefix="mcpstack-preflight-"))
    tls = ssl.create_default_context(cafile=_material(cluster, "certificate-authority", scratch))
    if cluster.get("insecure-skip-tls-verify"):
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    cert, key = _material(user, "client-certificate", scratch), _material(user, "client-key", scratch)
    if cert and key:
        tls.load_cert_chain(cert, key)
    headers = {"Accept": "application/json"}
    if user.get("token"):
        headers["Authorization"] = f"Bearer {user['token']}"
    client = httpx.Client(verify=tls, headers=headers, timeout=timeout)
    return Cluster(server=cluster.get("server", ""), context=name, client=client)
