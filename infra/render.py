"""`mcpstack render`: run stacks/__main__.py under Pulumi's mocks and keep every resource it registers.

No Pulumi CLI, provider plugin or cluster: `pulumi.runtime.set_mocks` stands in for the engine,
answers each registration with its own inputs, and a recording monitor keeps the type, name,
parent and inputs of every resource (with Pulumi's secret markers). The stack's config comes from
stacks/Pulumi.yaml (defaults) and stacks/Pulumi.STACK.yaml; every catalog secret is the placeholder
`<secret:NAME>`, so a value that leaks anywhere but a Secret is visible (mcpstack policy checks).
"""

from __future__ import annotations

import asyncio
import json
import runpy
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import ROOT, get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.components.pull_secret import PULL_SECRET_CONFIG
from infra.program import load
from infra.settings import PROVIDER_KEYS, SETTINGS, StackSettings
from mcpstack import REPO_ROOT
from mcpstack.catalog.models import Catalog
from mcpstack.deployment.images import repository
from mcpstack.generate import redacted

STACKS_DIR = REPO_ROOT / "stacks"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # noqa: S105 - not a credential: pulumi.runtime.rpc._special_sig_key
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - not a credential: pulumi.runtime.rpc._special_secret_sig
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


class RenderError(RuntimeError):
    pass


@dataclass
class Registered:
    """One resource the program registered: what `pulumi up` would send to the engine."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: Any  # deserialized, secrets still wrapped
    body: Any = None  # inputs with secrets unwrapped and numbers normalized
    secret_paths: list[str] = field(default_factory=list)  # dotted paths of values marked secret
    outputs: dict[str, Any] = field(default_factory=dict)  # registered outputs (components)
    auto_named: bool = False  # metadata.name is Pulumi's: the logical name plus a random suffix
    provider: str = ""  # the provider reference (URN::id) the resource is registered with
    dependencies: list[str] = field(default_factory=list)  # URNs it waits for (depends_on and inputs)
    protect: bool = False  # `pulumi destroy` / a replacement refuses to delete it
    retain_on_delete: bool = False  # deleting it removes it from the state only

    @property
    def is_kubernetes_object(self) -> bool:
        return self.custom and self.type.startswith("kubernetes:") and self.type != HELM_RELEASE

    @property
    def is_helm_release(self) -> bool:
        return self.type == HELM_RELEASE

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass
class Rendered:
    stack: str
    settings: Any  # infra.settings.StackSettings
    catalog: Catalog
    resources: list[Registered]
    stack_outputs: dict[str, Any]

    def objects(self) -> list[dict[str, Any]]:
        return [r.body for r in self.resources if r.is_kubernetes_object]

    def releases(self) -> list[Registered]:
        return [r for r in self.resources if r.is_helm_release]

    def components(self) -> list[Registered]:
        return [r for r in self.resources if not r.custom]

    def find(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        for obj in self.objects():
            meta = obj.get("metadata", {})
            if obj["kind"] == kind and meta.get("name") == name and namespace in (None, meta.get("namespace")):
                return obj
        raise KeyError(f"no {kind} {name}")

    def resource(self, kind: str, name: str) -> Registered:
        for r in self.resources:
            if r.is_kubernetes_object and r.body["kind"] == kind and r.body["metadata"].get("name") == name:
                return r
        raise KeyError(f"no {kind} {name}")


# --- running the program -------------------------------------------------------------------------


def stack_config(
    stack: str, project_dir: Path = STACKS_DIR, overrides: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, Any], set[str]]:
    """(project name, typed config values, keys declared or stored as secret) of a stack."""
    project_file = project_dir / "Pulumi.yaml"
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))
        raise RenderError(f"no stack {stack!r} in {project_dir} (stacks: {', '.join(known) or 'none'})")
    project = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    name = project["name"]
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(declaration, dict):
            if declaration.get("secret"):
                secret_keys.add(full)
            if "default" in declaration:
                values[full] = declaration["default"]
        else:
            values[full] = declaration
    stored = (yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}).get("config") or {}
    for key, value in stored.items():
        if isinstance(value, dict) and "secure" in value:
            secret_keys.add(key)
            continue
        values[key] = value
    for key, value in (overrides or {}).items():
        values[key if ":" in key else f"{name}:{key}"] = value
    return name, values, secret_keys


def render_stack(stack: str, *, project_dir: Path = STACKS_DIR, overrides: Mapping[str, Any] | None = None) -> Rendered:
    """Run the stack's Pulumi program under mocks; every catalog secret is a `<secret:NAME>` placeholder."""
    project, values, _secret_keys = stack_config(stack, project_dir, overrides)
    typed = {key.partition(":")[2]: value for key, value in values.items() if key.startswith(f"{project}:")}
    known = {s.key for s in SETTINGS}
    provider = {key: value for key, value in values.items() if key in PROVIDER_KEYS}
    settings = StackSettings.from_values(stack, project_dir, {k: v for k, v in typed.items() if k in known} | provider)
    catalog = load(settings)
    config = {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}
    secrets = [*catalog.secrets, *([PULL_SECRET_CONFIG] if settings.image_pull_secret else [])]
    for secret in secrets:
        config[f"{project}:{secret}"] = redacted(secret)
    secret_keys = [f"{project}:{s}" for s in secrets]

    loop = asyncio.new_event_loop()  # Pulumi's runtime awaits on the current loop; a fresh one per render
    asyncio.set_event_loop(loop)
    mocks = _RecordingMocks()
    monitor = _RecordingMonitor(mocks)
    ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys)
    program = project_dir / "__main__.py"
    stack_outputs: dict[str, Any] = {}

    async def run() -> None:
        runpy.run_path(str(program), run_name="__main__")
        # set_mocks made the root stack; `pulumi.export` adds to its outputs
        for key, value in getattr(get_root_resource(), "outputs", {}).items():
            output = pulumi.Output.from_input(value)
            secret = await output.is_secret()
            stack_outputs[key] = {"secret": True} if secret else await output.future()

    try:
        _sync_await(run_pulumi_func(run))
    finally:
        ROOT.set(None)
        asyncio.set_event_loop(None)
        loop.close()
    resources = [_finish(r) for r in monitor.registered]
    by_urn = {r.urn: r for r in resources}
    for urn, outputs in monitor.outputs.items():
        if urn in by_urn:
            by_urn[urn].outputs = outputs
    return Rendered(stack=stack, settings=settings, catalog=catalog, resources=resources, stack_outputs=stack_outputs)


class _RecordingMocks(pulumi.runtime.Mocks):
    """Answers every registration with its inputs; auto-named objects get their logical name."""

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        metadata = state.get("metadata")
        if isinstance(metadata, dict) and not metadata.get("name"):
            state["metadata"] = {**metadata, "name": args.name}
        if args.typ == HELM_RELEASE:
            state.setdefault("status", {"name": state.get("name", args.name), "namespace": state.get("namespace")})
        return f"{args.name}-id", state

    def call(self, args: Any) -> tuple[dict[str, Any], None]:
        return {}, None


class _RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(
                Registered(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=rpc.deserialize_properties(request.object),
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs[request.urn] = _unwrap(rpc.deserialize_properties(request.outputs), "", [])
        return super().RegisterResourceOutputs(request)


def _finish(registered: Registered) -> Registered:
    paths: list[str] = []
    body = _unwrap(registered.inputs, "", paths)
    if registered.is_kubernetes_object and isinstance(body, dict):
        body = {"apiVersion": body.pop("apiVersion", None), "kind": body.pop("kind", None), **body}
        metadata = body.setdefault("metadata", {})
        if not metadata.get("name"):  # auto-named: Pulumi adds a random suffix to the logical name
            metadata["name"] = registered.name
            registered.auto_named = True
    registered.body = body
    registered.secret_paths = paths
    return registered


def _unwrap(value: Any, path: str, secret_paths: list[str]) -> Any:
    """Drop Pulumi's secret markers (noting where they were) and turn 3.0 back into 3."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE:
            secret_paths.append(path or ".")
            return _unwrap(value.get("value"), path, [])
        return {k: _unwrap(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- writing ---------------------------------------------------------------------------------------


def object_path(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    namespace = meta.get("namespace") or "_cluster"
    return f"manifests/{namespace}/{obj['kind']}-{meta.get('name')}.yaml"


def release_document(release: Registered) -> dict[str, Any]:
    body = release.body
    return {
        "release": body.get("name"),
        "namespace": body.get("namespace"),
        "chart": body.get("chart"),
        "version": body.get("version"),
        "repository": (body.get("repositoryOpts") or {}).get("repo"),
        "pulumi": {"type": release.type, "name": release.name},
        "values": body.get("values") or {},
    }


def write(rendered: Rendered, out: Path) -> list[Path]:
    """Write every object (manifests/NAMESPACE/KIND-NAME.yaml), every Helm release (helm/RELEASE.yaml:
    chart reference and complete values) and index.yaml. Replaces only what an earlier render wrote."""
    out.mkdir(parents=True, exist_ok=True)
    for owned in ("manifests", "helm"):
        shutil.rmtree(out / owned, ignore_errors=True)
    written: list[Path] = []
    index: list[dict[str, Any]] = []
    for resource in rendered.resources:
        if resource.is_kubernetes_object:
            relative = object_path(resource.body)
            document = resource.body
        elif resource.is_helm_release:
            relative = f"helm/{resource.body.get('namespace')}-{resource.body.get('name')}.yaml"
            document = release_document(resource)
        else:
            continue
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(document), encoding="utf-8")
        written.append(path)
        index.append(
            {
                "file": relative,
                "pulumi_type": resource.type,
                "pulumi_name": resource.name,
                "parent": resource.parent.rsplit("::", 1)[-1] if resource.parent else None,
                "secret_fields": resource.secret_paths,
                "auto_named": resource.auto_named,
            }
        )
    summary = {
        "stack": rendered.stack,
        "environment": rendered.catalog.environment,
        "deployment": rendered.settings.deployment,
        "objects": len(rendered.objects()),
        "helm_releases": len(rendered.releases()),
        "images": images(rendered),
        "components": [f"{c.type} {c.name}" for c in rendered.components()],
        "stack_outputs": rendered.stack_outputs,
        "files": index,
    }
    (out / "index.yaml").write_text(_dump(summary), encoding="utf-8")
    written.append(out / "index.yaml")
    return written


def images(rendered: Rendered) -> dict[str, list[str]]:
    """Images the stack runs: `built` from this repository (push them, or `kind load docker-image`), `pulled`."""
    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "image" and isinstance(item, str):
                    found.add(item)
                elif key == "image" and isinstance(item, dict) and item.get("repository") and item.get("tag"):
                    registry = f"{item['registry']}/" if item.get("registry") else ""
                    found.add(f"{registry}{item['repository']}:{item['tag']}")
                else:
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for obj in rendered.objects():
        collect(obj.get("spec"))
    for release in rendered.releases():
        collect(release.body.get("values"))
    built = {repository(s.image.ref) for s in rendered.catalog.services.values() if s.image.build is not None}
    local = sorted(i for i in found if any(repository(i) == ref or repository(i).endswith(f"/{ref}") for ref in built))
    return {"built": local, "pulled": sorted(found - set(local))}


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False, width=120)


def kinds(rendered: Rendered) -> Iterator[tuple[str, int]]:
    counts: dict[str, int] = {}
    for obj in rendered.objects():
        counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
    if rendered.releases():
        counts["helm.v3.Release"] = len(rendered.releases())
    yield from sorted(counts.items())
