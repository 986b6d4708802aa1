"""Hardening, the security context: non-root, read-only root filesystem, no privilege escalation,
capabilities dropped, a seccomp profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcpstack.catalog.models import ServiceBase
from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import PodView

SECTION = Section()


def _security(pod: PodView, container: Any, key: str) -> Any:
    value = container.security.get(key)
    return pod.security.get(key) if value is None else value


@SECTION.rule("HARD-RUN-AS-NON-ROOT", "every container runs as a non-root user (runAsNonRoot, no uid 0)")
def _non_root(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        for c in pod.containers:
            if _security(pod, c, "runAsNonRoot") is not True:
                yield Violation("HARD-RUN-AS-NON-ROOT", pod.ref, f"{c.security_path}.runAsNonRoot", "must be true")
            if _security(pod, c, "runAsUser") == 0:
                yield Violation("HARD-RUN-AS-NON-ROOT", pod.ref, f"{c.security_path}.runAsUser", "uid 0 is root")


@SECTION.rule(
    "HARD-READ-ONLY-ROOT-FS", "root filesystems are read-only unless the catalog's security says the app needs it"
)
def _read_only(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        service = ctx.service(pod.service)
        if service is not None and not service.security.read_only_root_filesystem:
            continue
        for c in pod.containers:
            if c.security.get("readOnlyRootFilesystem") is not True:
                yield Violation(
                    "HARD-READ-ONLY-ROOT-FS", pod.ref, f"{c.security_path}.readOnlyRootFilesystem", "must be true"
                )


@SECTION.rule("HARD-NO-PRIVILEGE-ESCALATION", "allowPrivilegeEscalation is false and nothing runs privileged")
def _no_escalation(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        for c in pod.containers:
            if c.security.get("allowPrivilegeEscalation") is not False:
                yield Violation(
                    "HARD-NO-PRIVILEGE-ESCALATION",
                    pod.ref,
                    f"{c.security_path}.allowPrivilegeEscalation",
                    "must be false",
                )
            if c.security.get("privileged") is True:
                yield Violation(
                    "HARD-NO-PRIVILEGE-ESCALATION", pod.ref, f"{c.security_path}.privileged", "must not be true"
                )


def _allowed_capabilities(service: ServiceBase | None) -> set[str]:
    """Capabilities the catalog grants a service (Security.capabilities / cap_add, when the model has them)."""
    if service is None:
        return set()
    for attribute in ("capabilities", "cap_add", "add_capabilities"):
        value = getattr(service.security, attribute, None)
        if isinstance(value, list | tuple | set):
            return {str(v).upper() for v in value}
        if value is not None and hasattr(value, "add"):
            return {str(v).upper() for v in value.add}
    return set()


@SECTION.rule("HARD-DROP-CAPABILITIES", "every container drops ALL capabilities and adds only what the catalog grants")
def _capabilities(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        allowed = _allowed_capabilities(ctx.service(pod.service))
        for c in pod.containers:
            capabilities = c.security.get("capabilities") or {}
            if "ALL" not in (capabilities.get("drop") or []):
                yield Violation(
                    "HARD-DROP-CAPABILITIES", pod.ref, f"{c.security_path}.capabilities.drop", "must drop ALL"
                )
            extra = {str(a).upper() for a in capabilities.get("add") or []} - allowed
            if extra:
                yield Violation(
                    "HARD-DROP-CAPABILITIES",
                    pod.ref,
                    f"{c.security_path}.capabilities.add",
                    f"adds {', '.join(sorted(extra))}, which the catalog does not grant",
                )


@SECTION.rule(
    "HARD-SECCOMP",
    "every container runs with the RuntimeDefault seccomp profile, or the catalog's own (security.seccomp_profile) "
    "as a Localhost profile",
)
def _seccomp(ctx: Context) -> Iterator[Violation]:
    for pod in ctx.pods:
        service = ctx.service(pod.service)
        own = service.security.seccomp_profile if service else None
        for c in pod.containers:
            profile = _security(pod, c, "seccompProfile") or {}
            if own and not c.init:
                name = own.rsplit("/", 1)[-1]
                local = str(profile.get("localhostProfile") or "")
                if profile.get("type") != "Localhost" or local.rsplit("/", 1)[-1] != name:
                    yield Violation(
                        "HARD-SECCOMP", pod.ref, f"{c.security_path}.seccompProfile", f"must be the Localhost {name}"
                    )
            elif profile.get("type") not in ("RuntimeDefault", "Localhost"):
                yield Violation(
                    "HARD-SECCOMP", pod.ref, f"{c.security_path}.seccompProfile.type", "must be RuntimeDefault"
                )
