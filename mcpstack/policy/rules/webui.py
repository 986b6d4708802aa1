"""Open WebUI in production: several replicas share one PostgreSQL, a vector DB, Redis, the session key
and storage; the chart's bundled extras are off; tool servers come from a Secret."""

from __future__ import annotations

from collections.abc import Iterator

from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import Obj, PodView, ref_of, release_ref, values_of

MULTI_REPLICA_VECTOR_DBS = ("pgvector", "qdrant", "milvus", "opensearch", "elasticsearch")
OBJECT_STORAGE = ("s3", "gcs", "azure")

SECTION = Section()


def _webui_pods(ctx: Context) -> list[PodView]:
    return [p for p in ctx.pods if ctx.kind_of(p.service or "") == "open-webui"]


def _effective_env(ctx: Context, pod: PodView) -> dict[str, Obj]:
    """Open WebUI's environment: its env entries, plus what its chart derives from values."""
    main = next(c for c in pod.containers if not c.init)
    env = {e.get("name"): e for e in main.env}
    if pod.chart == "open-webui":
        values = values_of(ctx.release("open-webui"))  # type: ignore[arg-type]
        websocket = values.get("websocket") or {}
        if websocket.get("enabled") and websocket.get("manager"):
            env["WEBSOCKET_MANAGER"] = {"name": "WEBSOCKET_MANAGER", "value": websocket["manager"]}
            if websocket["manager"] == "redis" and (
                websocket.get("url")
                or websocket.get("existingSecret")
                or websocket.get("redis", {}).get("enabled", True)
            ):
                env["REDIS_URL"] = {"name": "REDIS_URL", "value": websocket.get("url") or "(chart)"}
        if values.get("databaseUrl"):
            env["DATABASE_URL"] = {"name": "DATABASE_URL", "value": values["databaseUrl"]}
        provider = (values.get("persistence") or {}).get("provider")
        if provider in OBJECT_STORAGE:
            env["STORAGE_PROVIDER"] = {"name": "STORAGE_PROVIDER", "value": provider}
    return env


def _from_secret(entry: Obj | None) -> bool:
    return bool(entry and (entry.get("valueFrom") or {}).get("secretKeyRef"))


def _multi(ctx: Context) -> Iterator[PodView]:
    for pod in _webui_pods(ctx):
        if (pod.replicas or 1) > 1:
            yield pod


@SECTION.rule("PROD-WEBUI-REPLICAS", "Open WebUI runs at least 3 replicas in production", helm_only=True)
def _webui_replicas(ctx: Context) -> Iterator[Violation]:
    for pod in _webui_pods(ctx):
        if (pod.replicas or 0) < 3:
            yield Violation("PROD-WEBUI-REPLICAS", pod.ref, pod.replicas_path, f"{pod.replicas} < 3")


@SECTION.rule("PROD-WEBUI-POSTGRES", "several Open WebUI replicas share one PostgreSQL: DATABASE_URL from a Secret")
def _webui_postgres(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        entry = _effective_env(ctx, pod).get("DATABASE_URL")
        if not _from_secret(entry):
            field = "values.databaseUrl" if entry and pod.chart else "env.DATABASE_URL"
            yield Violation("PROD-WEBUI-POSTGRES", pod.ref, field, "must come from a Secret (postgresql://...)")


@SECTION.rule(
    "PROD-WEBUI-VECTOR-DB", "several Open WebUI replicas need a shared vector DB (e.g. pgvector in that PostgreSQL)"
)
def _webui_vector(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        value = (_effective_env(ctx, pod).get("VECTOR_DB") or {}).get("value")
        if value not in MULTI_REPLICA_VECTOR_DBS:
            yield Violation(
                "PROD-WEBUI-VECTOR-DB", pod.ref, "env.VECTOR_DB", f"{value!r}: the default (chroma) is local files"
            )


@SECTION.rule("PROD-WEBUI-REDIS", "several Open WebUI replicas share websockets through Redis")
def _webui_redis(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        env = _effective_env(ctx, pod)
        if (env.get("WEBSOCKET_MANAGER") or {}).get("value") != "redis" or "REDIS_URL" not in env:
            field = "values.websocket" if pod.chart else "env.WEBSOCKET_MANAGER"
            yield Violation("PROD-WEBUI-REDIS", pod.ref, field, "the websocket manager must be redis, with a URL")


@SECTION.rule(
    "PROD-WEBUI-SECRET-KEY", "every Open WebUI replica signs sessions with the same WEBUI_SECRET_KEY, from a Secret"
)
def _webui_key(ctx: Context) -> Iterator[Violation]:
    for pod in _webui_pods(ctx):
        if not _from_secret(_effective_env(ctx, pod).get("WEBUI_SECRET_KEY")):
            yield Violation("PROD-WEBUI-SECRET-KEY", pod.ref, "env.WEBUI_SECRET_KEY", "must come from a Secret")


@SECTION.rule(
    "PROD-WEBUI-SHARED-STORAGE",
    "several Open WebUI replicas (a Deployment) share storage: ReadWriteMany or object storage",
)
def _webui_storage(ctx: Context) -> Iterator[Violation]:
    for pod in _multi(ctx):
        if pod.chart == "open-webui":
            values = values_of(ctx.release("open-webui"))  # type: ignore[arg-type]
            persistence = values.get("persistence") or {}
            if (values.get("workload") or {}).get("kind") != "Deployment":
                yield Violation("PROD-WEBUI-SHARED-STORAGE", pod.ref, "values.workload.kind", "must be Deployment")
            modes = persistence.get("accessModes") or []
            if persistence.get("existingClaim"):  # the chart mounts a claim of ours: its access modes count
                claim = next(
                    (
                        c
                        for c in ctx.of_kind("PersistentVolumeClaim")
                        if c["metadata"].get("name") == persistence["existingClaim"]
                    ),
                    None,
                )
                modes = (claim or {}).get("spec", {}).get("accessModes") or []
            shared = "ReadWriteMany" in modes or persistence.get("provider") in OBJECT_STORAGE
            if persistence.get("enabled", True) and not shared:
                yield Violation(
                    "PROD-WEBUI-SHARED-STORAGE",
                    pod.ref,
                    "values.persistence.accessModes",
                    "must be ReadWriteMany (or object storage)",
                )
            continue
        claims = {(v.get("persistentVolumeClaim") or {}).get("claimName") for v in pod.volumes}
        for claim in ctx.of_kind("PersistentVolumeClaim"):
            if claim["metadata"].get("name") in claims and "ReadWriteMany" not in (
                claim["spec"].get("accessModes") or []
            ):
                yield Violation("PROD-WEBUI-SHARED-STORAGE", ref_of(claim), "spec.accessModes", "must be ReadWriteMany")


@SECTION.rule(
    "PROD-WEBUI-BUNDLED-OFF",
    "the Open WebUI chart's bundled Ollama and Pipelines are off (Ollama is its own release)",
    helm_only=True,
)
def _webui_bundled(ctx: Context) -> Iterator[Violation]:
    release = ctx.release("open-webui")
    if release is None:
        return
    values = values_of(release)
    for key in ("ollama", "pipelines"):
        if (values.get(key) or {}).get("enabled", True) is not False:
            yield Violation("PROD-WEBUI-BUNDLED-OFF", release_ref(release), f"values.{key}.enabled", "must be false")


@SECTION.rule(
    "PROD-WEBUI-TOOL-SERVERS",
    "Open WebUI's tool servers (the gateway routes) come from a Secret, and it forwards user info",
)
def _webui_tools(ctx: Context) -> Iterator[Violation]:
    for pod in _webui_pods(ctx):
        env = _effective_env(ctx, pod)
        if not _from_secret(env.get("TOOL_SERVER_CONNECTIONS")):
            yield Violation(
                "PROD-WEBUI-TOOL-SERVERS", pod.ref, "env.TOOL_SERVER_CONNECTIONS", "must come from a Secret"
            )
        forward = (env.get("ENABLE_FORWARD_USER_INFO_HEADERS") or {}).get("value")
        if str(forward).lower() != "true":
            yield Violation(
                "PROD-WEBUI-TOOL-SERVERS", pod.ref, "env.ENABLE_FORWARD_USER_INFO_HEADERS", "must be true (tenancy)"
            )
