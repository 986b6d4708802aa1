"""The local stack: the catalog's services as containers on one Docker network.

`up` is idempotent (unchanged, running containers are kept), starts services in dependency order,
waits for every health endpoint, and on any failure removes the whole stack and shows the failing
service's last log lines. Containers, network and volumes carry the stack's label; `down` removes
them by label, so a stack can be stopped from another process. A long-lived stack (`mcpstack up`) restarts
by itself after a crash or an engine restart; the e2e suites' stacks are short-lived testcontainers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import docker
import httpx
from docker.errors import ImageNotFound, NotFound
from docker.models.containers import Container

from mcpstack import DEFAULT_CONFIG_DIR, REPO_ROOT
from mcpstack.catalog import Catalog, load_catalog
from mcpstack.generate import GENERATORS
from mcpstack.local.containers import (
    LABEL_ENVIRONMENT,
    LABEL_SERVICE,
    LABEL_SPEC_HASH,
    LABEL_STACK,
    ServiceContainer,
    container_name,
    fingerprint,
    run_options,
    start_long_lived,
    volume_name,
)
from mcpstack.local.docker_engine import docker_client
from mcpstack.local.grafana import provisioning_files
from mcpstack.local.images import BaseMode, ImageBuilder
from mcpstack.local.secrets import SecretStore
from mcpstack.local.spec import ContainerSpec, container_specs, start_order
from mcpstack.local.view import local_view, substitutions

STATE_ROOT = Path(os.environ.get("MCPSTACK_STATE_DIR", REPO_ROOT / ".mcpstack"))
LOG_TAIL = 25
Log = Callable[[str], None]


class StackError(RuntimeError):
    pass


@dataclass
class ServiceStatus:
    service: str
    image: str
    state: str
    health: str
    urls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """A service's files and environment, written for the container user: what `up` mounts and passes."""

    generated: dict[str, Path]  # container path -> generated file
    secret_files: dict[str, Path]  # container path -> secret file
    env: dict[str, str]  # plain env, env-injected secrets and generated env

    @property
    def mounts(self) -> dict[str, Path]:
        return self.generated | self.secret_files


class LocalStack:
    def __init__(
        self,
        catalog: Catalog,
        *,
        name: str | None = None,
        fixed_host_ports: bool = True,
        state_root: Path = STATE_ROOT,
        client: docker.DockerClient | None = None,
        log: Log = print,
        real: Collection[str] = (),
        long_lived: bool = False,
    ) -> None:
        self.deployed = catalog  # what the stacks deploy
        self.substitutions = substitutions(catalog, real)  # service -> stand-in running in its place here
        self.catalog = local_view(catalog, real)  # what runs here
        self.name = name or f"mcpstack-{catalog.environment}"
        self.fixed_host_ports = fixed_host_ports
        self.state_dir = state_root / "stacks" / self.name
        self.secrets = SecretStore(self.state_dir / "secrets", catalog.secrets)
        self._given_client = client
        self._log = log
        self.long_lived = long_lived  # restart policy, rotated logs, no test-library labels
        self.specs = container_specs(self.catalog, fixed_host_ports=fixed_host_ports)

    @classmethod
    def attach(cls, name: str, *, config_dir: Path = DEFAULT_CONFIG_DIR, log: Log = print) -> LocalStack:
        """The running stack called `name`, with the catalog of the environment it was started with."""
        client = docker_client()
        running = client.containers.list(all=True, filters={"label": f"{LABEL_STACK}={name}"})
        if not running:
            raise StackError(f"no stack named {name!r} is running (see `mcpstack status`)")
        environment = running[0].labels[LABEL_ENVIRONMENT]
        return cls(load_catalog(config_dir, environment), name=name, client=client, log=log)

    @property
    def _client(self) -> docker.DockerClient:
        """The engine, connected on first use (rendering a Compose file needs none)."""
        if self._given_client is None:
            self._given_client = docker_client()
        return self._given_client

    @property
    def network(self) -> str:
        return f"{self.name}-net"

    # -- up --------------------------------------------------------------------------------------

    def up(self, *, build: bool = True, base: BaseMode = "auto", timeout: float = 90.0) -> list[ServiceStatus]:
        if build:
            ImageBuilder(self._client, base=base, log=self._log).ensure(self.catalog)
        self._require_images()
        started = time.monotonic()
        deadline = started + timeout
        recreated: set[str] = set()
        try:
            self._ensure_network()
            for level in start_order(self.specs):
                waiting = [name for name in level if self._start(self.specs[name], recreated)]
                self._wait_healthy(waiting, deadline)
        except BaseException as exc:
            self._log(f"stack {self.name} failed to start: {exc}")
            self.down()
            if isinstance(exc, StackError):
                raise
            raise StackError(str(exc)) from exc
        self._log(f"stack {self.name} healthy in {time.monotonic() - started:.1f} s")
        return self.status()

    def _require_images(self) -> None:
        missing = []
        for spec in self.specs.values():
            try:
                self._client.images.get(spec.image)
            except ImageNotFound:
                missing.append(spec.image)
        if missing:
            raise StackError(f"images not built: {', '.join(sorted(set(missing)))} (run `mcpstack images build`)")

    def _ensure_network(self) -> None:
        if not self._client.networks.list(names=[self.network]):
            self._client.networks.create(self.network, driver="bridge", labels={LABEL_STACK: self.name})

    def _start(self, spec: ContainerSpec, recreated: set[str]) -> bool:
        """Start (or keep) one service's container; True if it was (re)started."""
        prepared = self.prepare(spec)
        image_id = self._client.images.get(spec.image).id
        wanted = fingerprint(spec, image_id, prepared.mounts, prepared.env, long_lived=self.long_lived)
        existing = self._find(spec.service)
        if (
            existing is not None
            and existing.status == "running"
            and existing.labels.get(LABEL_SPEC_HASH) == wanted
            and not spec.depends_on & recreated
        ):
            return False
        if existing is not None:
            existing.remove(force=True)
        for volume in spec.volumes:
            name = volume_name(self.name, spec.service, volume)
            if not self._client.volumes.list(filters={"name": name}):
                self._client.volumes.create(name, labels={LABEL_STACK: self.name})
        self._log(f"starting {spec.service} ({spec.image})")
        if self.long_lived:
            start_long_lived(self._client, self.run_options(spec, prepared, wanted), [spec.service, *spec.aliases])
        else:
            ServiceContainer(spec, self.run_options(spec, prepared, wanted)).start()
        recreated.add(spec.service)
        return True

    def run_options(self, spec: ContainerSpec, prepared: Prepared, fingerprint: str = "") -> dict:
        """The Docker options `up` starts the service's container with (mcpstack.local.containers)."""
        return run_options(
            spec,
            stack=self.name,
            environment=self.catalog.environment,
            network=self.network,
            mounts=prepared.mounts,
            env=prepared.env,
            fingerprint=fingerprint,
            long_lived=self.long_lived,
        )

    def prepare(self, spec: ContainerSpec, area: str = "mounts") -> Prepared:
        """Write the service's generated files and secret files under the stack's state directory (`area`:
        `mounts` for `up`, which `down` clears; `compose` for a Compose file)."""
        directory = self.state_dir / area / spec.service
        directory.mkdir(parents=True, exist_ok=True)
        uid, gid = (int(part) for part in spec.user.split(":"))
        generated: dict[str, Path] = {}
        for target, generator_name in spec.generated_files.items():
            generator = GENERATORS[generator_name]
            content = generator.render(self.catalog, spec.service, self.secrets.value)
            generated[target] = _write_private(directory / generator_name, content, uid, gid, generator.secret)
        for target, content in provisioning_files(self.catalog, spec.service).items():  # Grafana's dashboards
            generated[target] = _write_private(directory / target.replace("/", "_"), content, uid, gid, False)
        secret_files = {
            target: _write_private(directory / f"secret-{secret}", self.secrets.value(secret), uid, gid, secret=True)
            for target, secret in spec.secret_files.items()
        }
        env = dict(spec.env) | {var: self.secrets.value(secret) for var, secret in spec.secret_env.items()}
        env |= {
            var: GENERATORS[generator].render(self.catalog, spec.service, self.secrets.value)
            for var, generator in spec.generated_env.items()
        }
        return Prepared(generated, secret_files, env)

    def _wait_healthy(self, services: list[str], deadline: float) -> None:
        pending = set(services)
        with httpx.Client(timeout=2.0) as http:
            while pending:
                for service in sorted(pending):
                    container = self._find(service)
                    if container is None or _stopped(container):
                        raise StackError(self._failure(service, "exited during start-up"))
                    if self._probe(http, service, container) == "healthy":
                        self._log(f"{service} is healthy")
                        pending.discard(service)
                if pending and time.monotonic() > deadline:
                    raise StackError(self._failure(sorted(pending)[0], "did not become healthy in time"))
                if pending:
                    time.sleep(0.3)

    def restart(self, service: str, timeout: float = 120.0) -> None:
        """Restart one service's container and wait until it is healthy again, on the same host ports."""
        container = self._find(service)
        if container is None:
            raise StackError(f"service {service!r} of stack {self.name!r} is not running")
        container.restart(timeout=10)
        self._wait_healthy([service], time.monotonic() + timeout)

    def _failure(self, service: str, what: str) -> str:
        container = self._find(service)
        logs = container.logs(tail=LOG_TAIL).decode(errors="replace").rstrip() if container else "(no container)"
        return f"{service} {what}; its last log lines:\n{logs}"

    # -- inspection ------------------------------------------------------------------------------

    def _find(self, service: str) -> Container | None:
        try:
            return self._client.containers.get(container_name(self.name, service))
        except NotFound:
            return None

    def _containers(self) -> list[Container]:
        return self._client.containers.list(all=True, filters={"label": f"{LABEL_STACK}={self.name}"})

    def urls(self, service: str) -> dict[str, str]:
        """Port name -> http://127.0.0.1:<host port> of a running service."""
        container = self._find(service)
        if container is None:
            return {}
        bindings = container.attrs["NetworkSettings"]["Ports"] or {}
        spec = self.specs.get(service)
        # a service of another catalog (a test's variant stack): name its ports by number
        ports = spec.ports if spec else {key.partition("/")[0]: int(key.partition("/")[0]) for key in bindings}
        urls = {}
        for port_name, port in ports.items():
            bound = bindings.get(f"{port}/tcp") or []
            if bound:
                urls[port_name] = f"http://127.0.0.1:{bound[0]['HostPort']}"
        return urls

    def url(self, service: str, port_name: str | None = None) -> str:
        urls = self.urls(service)
        if not urls:
            raise StackError(f"service {service!r} of stack {self.name!r} is not running")
        return urls[port_name] if port_name else next(iter(urls.values()))

    def _probe(self, http: httpx.Client, service: str, container: Container) -> str:
        container.reload()
        if container.status != "running":
            return container.status
        spec = self.specs.get(service)
        probe = spec and (spec.ready or spec.health)
        if not probe:
            return "running"
        path, port_name = probe
        base = self.urls(service).get(port_name)
        if base is None:
            return "unknown"
        if path is None:  # a TCP service (e.g. Redis): accepting connections is healthy
            host, _, port = base.removeprefix("http://").partition(":")
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
            except OSError:
                return "starting"
            return "healthy"
        try:
            return "healthy" if http.get(base + path).status_code == 200 else "unhealthy"
        except httpx.HTTPError:
            return "starting"

    def status(self) -> list[ServiceStatus]:
        result = []
        with httpx.Client(timeout=2.0) as http:
            for container in sorted(self._containers(), key=lambda c: c.labels.get(LABEL_SERVICE, "")):
                service = container.labels.get(LABEL_SERVICE, container.name)
                health = self._probe(http, service, container)
                image = container.attrs["Config"]["Image"]
                result.append(ServiceStatus(service, image, container.status, health, self.urls(service)))
        return result

    # -- down ------------------------------------------------------------------------------------

    def down(self, *, volumes: bool = False) -> list[str]:
        removed = []
        for container in self._containers():
            container.remove(force=True)
            removed.append(f"container {container.name}")
        for network in self._client.networks.list(names=[self.network]):
            with contextlib.suppress(NotFound):
                network.remove()
                removed.append(f"network {network.name}")
        if volumes:
            for volume in self._client.volumes.list(filters={"label": f"{LABEL_STACK}={self.name}"}):
                volume.remove(force=True)
                removed.append(f"volume {volume.name}")
        shutil.rmtree(self.state_dir / "mounts", ignore_errors=True)
        return removed

    def purge_state(self) -> None:
        """Forget the stack's secrets too (ephemeral stacks such as the e2e suite's)."""
        shutil.rmtree(self.state_dir, ignore_errors=True)


def _stopped(container: Container) -> bool:
    """Exited while starting; with a restart policy, Docker may already be bringing it back."""
    return container.status in ("exited", "dead", "restarting") or bool(container.attrs.get("RestartCount"))


def running_stacks(client: docker.DockerClient | None = None) -> dict[str, str]:
    """Names of stacks with containers on this engine -> their environment."""
    client = client or docker_client()
    stacks = {}
    for container in client.containers.list(all=True, filters={"label": LABEL_STACK}):
        stacks[container.labels[LABEL_STACK]] = container.labels.get(LABEL_ENVIRONMENT, "?")
    return stacks


def _write_private(path: Path, content: str, uid: int, gid: int, secret: bool) -> Path:
    """Write a file the container user can read; secrets readable by that user only."""
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
    if os.geteuid() == 0:
        os.chown(temporary, uid, gid)
        os.chmod(temporary, 0o400 if secret else 0o444)
    else:  # cannot hand the file to the container's uid; fall back to world-readable
        os.chmod(temporary, 0o444)
    temporary.replace(path)
    return path
