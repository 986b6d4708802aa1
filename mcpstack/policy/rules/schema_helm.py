"""Schema and Helm: every object is one Kubernetes accepts, and every chart is pinned and installed by Helm."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mcpstack.policy.chart_keys import KNOWN_VALUE_KEYS
from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.schema import KUBERNETES_VERSION, NoSchema, schema_errors
from mcpstack.policy.views import ref_of, release_ref, values_of

PINNED_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")

SECTION = Section()


@SECTION.rule("K8S-SCHEMA", f"every object is valid for Kubernetes {KUBERNETES_VERSION} (strict JSON schema)")
def _schema(ctx: Context) -> Iterator[Violation]:
    for obj in ctx.objects:
        try:
            for path, message in schema_errors(obj):
                yield Violation("K8S-SCHEMA", ref_of(obj), path, message)
        except NoSchema as exc:
            yield Violation("K8S-SCHEMA", ref_of(obj), "apiVersion", str(exc))


@SECTION.rule("HELM-CHART-PINNED", "every Helm release names its chart, an exact chart version and an https repository")
def _chart_pinned(ctx: Context) -> Iterator[Violation]:
    for release in ctx.releases:
        ref, body = release_ref(release), release.body
        if not body.get("chart"):
            yield Violation("HELM-CHART-PINNED", ref, "chart", "no chart")
        if not PINNED_CHART_VERSION.match(str(body.get("version") or "")):
            yield Violation("HELM-CHART-PINNED", ref, "version", f"not an exact chart version: {body.get('version')!r}")
        repository = str((body.get("repositoryOpts") or {}).get("repo") or "")
        if not repository.startswith("https://"):
            yield Violation("HELM-CHART-PINNED", ref, "repositoryOpts.repo", f"not an https repository: {repository!r}")


@SECTION.rule(
    "HELM-HOOKS", "charts are installed by Helm (helm.v3.Release), so their hooks run; no client-side templating"
)
def _helm_hooks(ctx: Context) -> Iterator[Violation]:
    for resource in ctx.rendered.resources:
        if re.fullmatch(r"kubernetes:helm\.sh/v\d+:Chart|kubernetes:kustomize:.*", resource.type):
            yield Violation(
                "HELM-HOOKS",
                f"{resource.type} {resource.name}",
                "type",
                "templated on the client: Helm hooks (e.g. kube-prometheus-stack's webhook certificate Jobs) "
                "never run; use helm.v3.Release",
            )


@SECTION.rule(
    "HELM-VALUES-KNOWN",
    "every value key set for the open-webui and ollama charts is one the pinned chart reads (Helm drops the others)",
)
def _values_known(ctx: Context) -> Iterator[Violation]:
    for release in ctx.releases:
        known = KNOWN_VALUE_KEYS.get(str(release.body.get("chart")))
        if known is None:
            continue
        values = values_of(release)
        for section, keys in known.items():
            node = values
            for part in section.split(".") if section else []:
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                continue
            for key in sorted(set(node) - set(keys)):
                path = f"values.{section}.{key}" if section else f"values.{key}"
                yield Violation(
                    "HELM-VALUES-KNOWN",
                    release_ref(release),
                    path,
                    f"the chart {release.body.get('chart')} {release.body.get('version')} has no such value: "
                    "Helm ignores it",
                )
