"""`mcpstack images push`: our images reach a registry by digest, and the prod stack deploys exactly those
digests. Against a real registry (Debian's `docker-registry`, on 127.0.0.1) and the local engine; plus the
offline half: a registry without a digest for an image fails the render, naming the images."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.components.context import ImagesNotPushedError, built_images
from infra.render import images, render_stack
from mcpstack.cli import app
from mcpstack.deployment.images import RECORD_ENV, read_record, repository
from mcpstack.local.docker_engine import docker_client

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1:PORT, storage in tmp, never the system service."""
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry not installed (Debian package docker-registry; scripts/bootstrap.sh)"
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'storage'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
                assert time.monotonic() < deadline, "registry did not answer"
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def manifest_digest(registry: str, name: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{registry}/v2/{name}/manifests/{tag}", method="HEAD", headers={"Accept": MANIFEST_TYPES}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


@pytest.mark.docker
def test_push_records_the_registry_digests_and_prod_deploys_exactly_them(
    registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "image-digests.json"
    monkeypatch.setenv(RECORD_ENV, str(record))
    prefix = f"{registry}/mcpstack-test"
    try:
        result = CliRunner().invoke(app, ["images", "push", "--registry", prefix, "--env", "prod"])
    finally:  # the pushed tags only; the local images stay
        client = docker_client()
        for image in client.images.list():
            for tag in image.tags:
                if tag.startswith(f"{prefix}/"):
                    client.images.remove(tag)
    assert result.exit_code == 0, result.output

    recorded = read_record(record)[prefix]
    local_prod = render_stack("prod", overrides={"imageRegistry": ""})
    assert sorted(recorded) == images(local_prod)["built"] == built_images(local_prod.catalog, helm=True)
    in_registry = {}
    for image in recorded:
        name, _, tag = f"mcpstack-test/{image}".rpartition(":")
        in_registry[image] = manifest_digest(registry, name, tag)
    assert recorded == in_registry  # what was recorded is what the registry serves

    rendered = render_stack("prod", overrides={"imageRegistry": prefix})
    expected = sorted(f"{prefix}/{repository(image)}@{digest}" for image, digest in in_registry.items())
    assert images(rendered)["built"] == expected
    assert not [i for i in images(rendered)["pulled"] if i.startswith(prefix) or "mcpstack/" in i]


def test_a_missing_digest_fails_the_render_naming_the_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "image-digests.json"
    prefix = "registry.example.com/half-pushed"
    record.write_text(json.dumps({prefix: {"mcpstack/time:0.1.0": "sha256:" + "a" * 64}}))
    monkeypatch.setenv(RECORD_ENV, str(record))
    with pytest.raises(ImagesNotPushedError) as failure:
        render_stack("prod", overrides={"imageRegistry": prefix})
    message = str(failure.value)
    for image in ("mcpstack/mcpo:0.0.20-mcpstack.2", "mcpstack/open-webui:0.12.4", "mcpstack/sandbox:0.2.0"):
        assert image in message
    assert "mcpstack/time:0.1.0" not in message  # pushed
    assert f"mcpstack images push --registry {prefix}" in message


def test_without_a_registry_local_names_are_deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RECORD_ENV, "/nonexistent/image-digests.json")
    rendered = render_stack("prod", overrides={"imageRegistry": ""})
    assert "mcpstack/time:0.1.0" in images(rendered)["built"]


def test_a_pull_secret_reaches_our_pods_only() -> None:
    rendered = render_stack("prod", overrides={"imagePullSecret": "mcpstack-registry"})
    secret = rendered.find("Secret", "mcpstack-registry")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert ".dockerconfigjson" in secret["stringData"]
    wanted = [{"name": "mcpstack-registry"}]
    assert rendered.find("Deployment", "time")["spec"]["template"]["spec"]["imagePullSecrets"] == wanted
    webui = next(r for r in rendered.releases() if r.body["chart"] == "open-webui")
    assert webui.body["values"]["imagePullSecrets"] == wanted
    github = rendered.find("Deployment", "github")["spec"]["template"]["spec"]  # GitHub's own image: public
    assert "imagePullSecrets" not in github
