"""Sandboxes on this machine, in both modes, and a local package index on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from servers.sandbox.layers import NAMESPACES, Layer
from servers.sandbox.runner import PipSettings, RunnerSettings, Sandbox
from servers.sandbox.settings import default_python
from servers.sandbox.tests.local_index import namespace

MakeSandbox = Callable[..., Sandbox]
MODES = ("namespaced", "direct")


def direct_layers() -> frozenset[Layer]:
    """Every layer but the namespaces: what a host without bubblewrap gives."""
    return frozenset(Layer) - NAMESPACES


@pytest.fixture
def make_sandbox() -> Iterator[MakeSandbox]:
    """make_sandbox(mode="namespaced"|"direct", **RunnerSettings fields) -> a probed Sandbox, removed afterwards."""
    made: list[Sandbox] = []

    def make(mode: str = "namespaced", **fields: object) -> Sandbox:
        settings = RunnerSettings(**fields)  # type: ignore[arg-type]
        if mode == "direct" and settings.layers is None:
            settings = replace(settings, layers=direct_layers())
        sandbox = Sandbox.create(settings)
        if mode == "namespaced":
            # this machine has bubblewrap (docs/sandbox.md): a namespaced test must not quietly run without it
            assert sandbox.uses_bwrap, f"no namespaces on this host: {sandbox.host.missing}"
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        sandbox.close()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox, mode: str) -> Sandbox:
    return make_sandbox(mode)


@pytest.fixture(scope="session")
def pip_venv() -> Iterator[Path]:
    """A venv with pip only, on the sandbox's interpreter, readable by the runs' uid (like /opt/sandbox-pip)."""
    directory = Path(tempfile.mkdtemp(prefix="sandbox-pip-"))
    directory.chmod(0o755)
    venv = directory / "venv"
    subprocess.run([default_python(), "-m", "venv", str(venv)], check=True, timeout=300, capture_output=True)
    yield venv
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Index:
    url: str  # http://127.0.0.1:PORT/simple
    requests: list[str]  # paths asked for since the index started


@pytest.fixture(scope="session")
def package_index() -> Iterator[Index]:
    """The local index with the test packages of local_index.py, on 127.0.0.1."""
    scope = namespace()
    root = scope["build"](tempfile.mkdtemp(prefix="sandbox-index-"))
    server = scope["serve"](root, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Index(f"http://127.0.0.1:{server.server_address[1]}/simple", scope["REQUESTS"])
    server.shutdown()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pip_settings(pip_venv: Path, package_index: Index) -> PipSettings:
    return PipSettings(
        command=(str(pip_venv / "bin" / "python"), "-m", "pip"),
        index_url=package_index.url,
        trusted_host="127.0.0.1",
        timeout_seconds=120,
        max_bytes=2 * 1024 * 1024,
    )
