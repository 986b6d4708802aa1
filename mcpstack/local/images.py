"""Builds every image the catalog declares, from a build context assembled from its `include` list.

An image is rebuilt when its inputs change: the context (files, Dockerfile, build arguments) is
hashed and the hash stored as a label on the image. Base image: the catalog's `build.base_image`
from a registry, or the offline Debian base when no registry answers (see base_image.py).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import docker
from docker.errors import APIError, BuildError, ImageNotFound

from mcpstack import REPO_ROOT
from mcpstack.catalog.models import Catalog, GatewayService
from mcpstack.generate.gateway import stdio_packages
from mcpstack.local.base_image import ensure_offline_base, has_image
from mcpstack.local.build_progress import BuildProgress

BaseMode = Literal["auto", "registry", "offline"]
HASH_LABEL = "org.mcpstack.build-hash"
BASE_LABEL = "org.mcpstack.base-image"
CA_PATH = ".mcpstack-build/ca.pem"
WHEELS_DIR = ".mcpstack-build/wheels"
SKIPPED_PARTS = {"__pycache__", "tests", ".pytest_cache"}
Log = Callable[[str], None]


class ImageBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class ImagePlan:
    ref: str
    dockerfile: str
    include: tuple[str, ...]
    args: dict[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = ()
    host_wheels: tuple[str, ...] = ()


def plan_images(catalog: Catalog) -> list[ImagePlan]:
    plans: dict[str, ImagePlan] = {}
    for name, service in catalog.services.items():
        build = service.image.build
        if build is None:
            continue
        args = dict(build.args)
        if isinstance(service, GatewayService) and (packages := stdio_packages(service)):
            args["STDIO_SERVERS"] = packages
        ref = service.image.ref
        services = (*plans[ref].services, name) if ref in plans else (name,)
        plans[ref] = ImagePlan(ref, build.dockerfile, tuple(build.include), args, services, tuple(build.host_wheels))
    return list(plans.values())


def _context_files(plan: ImagePlan, root: Path) -> Iterator[tuple[str, Path]]:
    paths = {plan.dockerfile}
    for entry in plan.include:
        source = root / entry
        if not source.exists():
            raise ImageBuildError(f"{plan.ref}: build.include entry {entry!r} does not exist under {root}")
        if source.is_dir():
            paths |= {
                str(p.relative_to(root))
                for p in source.rglob("*")
                if p.is_file() and not SKIPPED_PARTS & set(p.parts) and p.suffix != ".pyc"
            }
        else:
            paths.add(entry)
    for relative in sorted(paths):
        yield relative, root / relative


def build_context(plan: ImagePlan, root: Path, ca_bundle: bytes, wheels: list[Path] | None = None) -> tuple[bytes, str]:
    """A deterministic tar of the build context, and the hash of everything the build depends on."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        members = [(name, path.read_bytes(), path.stat().st_mode & 0o111) for name, path in _context_files(plan, root)]
        members.append((CA_PATH, ca_bundle, 0))
        for name, data, executable in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755 if executable else 0o644, 0
            tar.addfile(info, io.BytesIO(data))
            if name != CA_PATH:  # trusting another CA does not change what is built
                digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        wheels_dir = tarfile.TarInfo(WHEELS_DIR)
        wheels_dir.type, wheels_dir.mode, wheels_dir.mtime = tarfile.DIRTYPE, 0o755, 0
        tar.addfile(wheels_dir)
        for wheel in wheels or []:  # a wheel is identified by its file name (name, version, build tag)
            info = tarfile.TarInfo(f"{WHEELS_DIR}/{wheel.name}")
            info.size, info.mode, info.mtime = wheel.stat().st_size, 0o644, 0
            with wheel.open("rb") as handle:
                tar.addfile(info, handle)
    digest.update(repr(sorted(plan.args.items())).encode())
    digest.update(repr(sorted(plan.host_wheels)).encode())
    return buffer.getvalue(), digest.hexdigest()[:32]


def find_host_wheels(patterns: tuple[str, ...]) -> list[Path]:
    """Wheels matching `patterns` in the find-links directories this machine's pip uses."""
    if not patterns:
        return []
    directories = [d for d in (os.environ.get("PIP_FIND_LINKS") or "").split() if d]
    try:
        configured = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.find-links"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        directories += configured.stdout.split() if configured.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        pass
    found: dict[str, Path] = {}
    for directory in directories:
        path = Path(directory.removeprefix("file://"))
        if path.is_dir():
            for pattern in patterns:
                found.update({wheel.name: wheel for wheel in path.glob(pattern)})
    return [found[name] for name in sorted(found)]


def find_ca_bundle() -> bytes:
    """The CA bundle this machine's pip trusts (PIP_CERT, pip config), or b"" for pip's default."""
    candidates = [os.environ.get(v) for v in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
    try:
        configured = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.cert"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        candidates.append(configured.stdout.strip() if configured.returncode == 0 else None)
    except (OSError, subprocess.TimeoutExpired):
        pass
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return b""


@dataclass
class BuildOutcome:
    ref: str
    action: Literal["built", "current"]
    seconds: float = 0.0


class ImageBuilder:
    def __init__(
        self, client: docker.DockerClient, *, base: BaseMode = "auto", root: Path = REPO_ROOT, log: Log = print
    ) -> None:
        self._client = client
        self._base_mode = base
        self._root = root
        self._log = log
        self._base: str | None = None
        self._ca: bytes | None = None

    def _ca_bundle(self) -> bytes:
        if self._ca is None:
            self._ca = find_ca_bundle()
        return self._ca

    def resolve_base(self, catalog: Catalog) -> str:
        if self._base:
            return self._base
        wanted = catalog.build.base_image
        if self._base_mode != "offline":
            if has_image(self._client, wanted):
                self._base = wanted
                return wanted
            try:
                self._log(f"pulling base image {wanted}")
                self._client.images.pull(wanted)
                self._base = wanted
                return wanted
            except APIError as exc:
                if self._base_mode == "registry":
                    raise ImageBuildError(f"cannot pull base image {wanted}: {exc.explanation}") from exc
                self._log(f"no registry reachable ({exc.explanation}); using the offline base image")
        self._base = ensure_offline_base(self._client, self._log)
        return self._base

    def is_current(self, plan: ImagePlan) -> bool:
        _, digest = build_context(plan, self._root, b"")
        try:
            image = self._client.images.get(plan.ref)
        except ImageNotFound:
            return False
        return (image.labels or {}).get(HASH_LABEL) == digest

    def ensure(self, catalog: Catalog, *, force: bool = False, only: set[str] | None = None) -> list[BuildOutcome]:
        outcomes = []
        for plan in plan_images(catalog):
            if only and not only & set(plan.services):
                continue
            if not force and self.is_current(plan):
                outcomes.append(BuildOutcome(plan.ref, "current"))
                continue
            outcomes.append(self.build(plan, self.resolve_base(catalog)))
        return outcomes

    def build(self, plan: ImagePlan, base: str) -> BuildOutcome:
        wheels = find_host_wheels(plan.host_wheels)
        if plan.host_wheels:
            self._log(f"{plan.ref}: wheels from this machine: {', '.join(w.name for w in wheels) or 'none'}")
        context, digest = build_context(plan, self._root, self._ca_bundle(), wheels)
        self._log(f"building {plan.ref} on {base}")
        started = time.monotonic()
        lines: list[str] = []
        progress = BuildProgress(plan.ref, self._log).start()
        try:
            for chunk in self._client.api.build(
                fileobj=io.BytesIO(context),
                custom_context=True,
                dockerfile=plan.dockerfile,
                tag=plan.ref,
                buildargs={"BASE_IMAGE": base, **plan.args},
                labels={HASH_LABEL: digest, BASE_LABEL: base},
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
            ):
                if "stream" in chunk:
                    lines.extend(chunk["stream"].rstrip("\n").splitlines())
                    for line in chunk["stream"].splitlines():
                        progress.line(line)
                if "error" in chunk:
                    raise BuildError(chunk["error"], iter(()))
        except (BuildError, APIError) as exc:
            tail = "\n".join(f"    {line}" for line in lines[-40:])
            raise ImageBuildError(f"building {plan.ref} ({plan.dockerfile}) failed: {exc}\n{tail}") from exc
        finally:
            progress.stop()
        seconds = time.monotonic() - started
        self._log(f"built {plan.ref} in {seconds:.0f} s")
        return BuildOutcome(plan.ref, "built", seconds)
