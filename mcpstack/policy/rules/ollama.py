"""Ollama in production: a GPU, the catalog's models pulled, and kept on a volume."""

from __future__ import annotations

from collections.abc import Iterator

from mcpstack.catalog.models import LlmService
from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import release_ref, values_of

SECTION = Section()


@SECTION.rule(
    "PROD-OLLAMA",
    "Ollama requests a GPU, pulls the catalog's models, keeps them on a volume, gets the catalog's env",
    helm_only=True,
)
def _ollama(ctx: Context) -> Iterator[Violation]:
    release = ctx.release("ollama")
    llms = [s for s in ctx.catalog.services.values() if isinstance(s, LlmService) and not s.local_only]
    if release is None:
        if llms:
            yield Violation("PROD-OLLAMA", "Stack", "helm", "no ollama release")
        return
    ref, values = release_ref(release), values_of(release)
    ollama = values.get("ollama") or {}
    gpu = ollama.get("gpu") or {}
    if not gpu.get("enabled") or int(gpu.get("number") or 0) < 1:
        yield Violation("PROD-OLLAMA", ref, "values.ollama.gpu", "must request at least one GPU")
    name = release.body.get("name")
    service = ctx.catalog.services.get(str(name))
    if isinstance(service, LlmService):
        pulled = list((ollama.get("models") or {}).get("pull") or [])
        if pulled != list(service.llm.models):
            yield Violation(
                "PROD-OLLAMA", ref, "values.ollama.models.pull", f"{pulled}, the catalog says {service.llm.models}"
            )
    if isinstance(service, LlmService):
        # the chart sets OLLAMA_HOST itself; everything else (HOME, OLLAMA_MODELS) only through extraEnv
        given = {e.get("name"): e.get("value") for e in values.get("extraEnv") or [] if isinstance(e, dict)}
        for var, value in sorted(service.env.items()):
            if var != "OLLAMA_HOST" and given.get(var) != value:
                yield Violation("PROD-OLLAMA", ref, "values.extraEnv", f"must set {var}={value} (the catalog's env)")
    if not (values.get("persistentVolume") or {}).get("enabled"):
        yield Violation("PROD-OLLAMA", ref, "values.persistentVolume.enabled", "models must persist")
