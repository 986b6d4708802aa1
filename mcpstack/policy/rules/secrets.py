"""Secrets: secret values appear only in Secrets (marked secret in the Pulumi state), and reach pods
only from Secrets, under their own key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcpstack.generate import GENERATORS
from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import Obj, PodView, ref_of, release_ref, values_of

SECRET_PLACEHOLDER = "<secret:"  # noqa: S105 - mcpstack.generate.redacted's marker, not a credential

SECTION = Section()


def _placeholders(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, f"{path}[{index}]")
    elif isinstance(value, str) and SECRET_PLACEHOLDER in value:
        yield path


@SECTION.rule(
    "SEC-NO-PLAINTEXT", "secret values appear only in Secrets: never in ConfigMaps, env values, Helm values or outputs"
)
def _no_plaintext(ctx: Context) -> Iterator[Violation]:
    for obj in ctx.objects:
        body = dict(obj)
        if obj.get("kind") == "Secret":
            body.pop("stringData", None)
            body.pop("data", None)
        for path in _placeholders(body, ""):
            yield Violation("SEC-NO-PLAINTEXT", ref_of(obj), path, "holds a secret value outside a Secret")
    for release in ctx.releases:
        for path in _placeholders(values_of(release), "values"):
            yield Violation("SEC-NO-PLAINTEXT", release_ref(release), path, "a secret value in Helm values")
    for path in _placeholders(ctx.rendered.stack_outputs, "outputs"):
        yield Violation("SEC-NO-PLAINTEXT", "Stack", path, "a secret value in a stack output")
    for component in ctx.rendered.components():
        for path in _placeholders(component.outputs, "outputs"):
            yield Violation("SEC-NO-PLAINTEXT", f"{component.type} {component.name}", path, "a secret value in outputs")


def _env_source(env: list[Obj], name: str) -> tuple[int, Obj] | None:
    return next(((i, e) for i, e in enumerate(env) if e.get("name") == name), None)


@SECTION.rule(
    "SEC-FROM-SECRETS", "catalog secrets and secret generated files reach pods only from Secrets, under their own key"
)
def _from_secrets(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        service = ctx.service(pod.service)
        if service is None:
            continue
        main = next(c for c in pod.containers if not c.init)
        volumes = {v.get("name"): v for v in pod.volumes}
        for ref in ctx.catalog.mounted_secrets(pod.service):
            if ref.env:
                yield from _secret_env(ctx, pod, main, ref.env, ref.secret)
            if ref.file:
                yield from _secret_mount(ctx, pod, main, volumes, ref.file, ref.secret)
        for file in service.files:
            if GENERATORS[file.generator].secret:
                yield from _secret_mount(ctx, pod, main, volumes, file.path, file.generator)
        for variable, generator in service.generated_env.items():
            if GENERATORS[generator].secret:
                found = _env_source(main.env, variable)
                if not found or not (found[1].get("valueFrom") or {}).get("secretKeyRef"):
                    yield Violation("SEC-FROM-SECRETS", pod.ref, main.env_path, f"{variable} must come from a Secret")


def _secret_env(ctx: Context, pod: PodView, main: Any, variable: str, secret: str) -> Iterator[Violation]:
    found = _env_source(main.env, variable)
    key_ref = ((found[1].get("valueFrom") or {}).get("secretKeyRef") or {}) if found else {}
    field = f"{main.env_path}[{found[0]}]" if found else main.env_path
    if not key_ref:
        yield Violation("SEC-FROM-SECRETS", pod.ref, field, f"{variable} must come from a Secret")
        return
    if key_ref.get("key") != secret:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{field}.valueFrom.secretKeyRef.key", f"must be {secret}")
    data = ctx.secret_data(pod.namespace, str(key_ref.get("name")))
    if data is None or secret not in data:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{field}.valueFrom.secretKeyRef", f"no Secret holds {secret}")


def _secret_mount(
    ctx: Context, pod: PodView, main: Any, volumes: dict[Any, Obj], path: str, key: str
) -> Iterator[Violation]:
    mount = next((m for m in main.mounts if m.get("mountPath") == path), None)
    if mount is None:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"{path} is not mounted")
        return
    volume = volumes.get(mount.get("name")) or {}
    if not volume.get("secret"):
        yield Violation(
            "SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"{path} is not mounted from a Secret"
        )
        return
    if mount.get("subPath") != key:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"{path} must be key {key}")
    data = ctx.secret_data(pod.namespace, str(volume["secret"].get("secretName")))
    if data is None or key not in data:
        yield Violation("SEC-FROM-SECRETS", pod.ref, f"{main.path}.volumeMounts", f"no Secret holds {key} for {path}")


@SECTION.rule("SEC-MARKED-SECRET", "every Secret's data is a Pulumi secret (encrypted in the state, hidden in diffs)")
def _marked_secret(ctx: Context) -> Iterator[Violation]:
    for resource in ctx.rendered.resources:
        if not resource.is_kubernetes_object or resource.body.get("kind") != "Secret":
            continue
        for key in ("stringData", "data"):
            if resource.body.get(key) and not any(p == key or p.startswith(f"{key}.") for p in resource.secret_paths):
                yield Violation("SEC-MARKED-SECRET", ref_of(resource.body), key, "not marked secret")
