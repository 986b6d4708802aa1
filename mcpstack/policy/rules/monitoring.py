"""Monitoring: Prometheus selects a ServiceMonitor for every service with metrics and a PrometheusRule
for every rule file; every catalog dashboard reaches Grafana."""

from __future__ import annotations

from collections.abc import Iterator

from mcpstack.catalog.models import GrafanaService, PrometheusService
from mcpstack.policy.rules.context import Context
from mcpstack.policy.rules.registry import Section, Violation
from mcpstack.policy.views import Obj, ref_of, selector_matches, values_of

SECTION = Section()


def _prometheus_namespace_selector(ctx: Context, key: str) -> Obj | None:
    """kube-prometheus-stack's Prometheus: the namespaces it looks for ServiceMonitors (or rules) in;
    the chart's default {} is every namespace."""
    release = ctx.release("kube-prometheus-stack")
    if release is None:
        return {}
    spec = (values_of(release).get("prometheus") or {}).get("prometheusSpec") or {}
    return spec.get(key, {})


def _namespace_labels(ctx: Context, namespace: str) -> dict[str, str]:
    """A namespace's labels as the API server has them (it adds kubernetes.io/metadata.name)."""
    found = next((n for n in ctx.of_kind("Namespace") if n["metadata"].get("name") == namespace), None)
    return {**((found or {}).get("metadata", {}).get("labels") or {}), "kubernetes.io/metadata.name": namespace}


def _outside_selector(ctx: Context, obj: Obj, key: str) -> Iterator[Violation]:
    selector = _prometheus_namespace_selector(ctx, key)
    namespace = str(obj["metadata"].get("namespace"))
    if not selector_matches(selector, _namespace_labels(ctx, namespace)):
        yield Violation(
            "MON-SERVICE-MONITORS" if obj.get("kind") == "ServiceMonitor" else "MON-RULES",
            ref_of(obj),
            "metadata.namespace",
            f"Prometheus' {key} {selector} does not select namespace {namespace}",
        )


def _monitor_labels(ctx: Context) -> dict[str, str]:
    """Labels kube-prometheus-stack's Prometheus selects ServiceMonitors/PrometheusRules by."""
    release = ctx.release("kube-prometheus-stack")
    if release is None:
        return {}
    spec = (values_of(release).get("prometheus") or {}).get("prometheusSpec") or {}
    if spec.get("serviceMonitorSelectorNilUsesHelmValues", True) and not spec.get("serviceMonitorSelector"):
        return {"release": str(release.body.get("name"))}
    return dict((spec.get("serviceMonitorSelector") or {}).get("matchLabels") or {})


@SECTION.rule(
    "MON-SERVICE-MONITORS",
    "every service with metrics has a ServiceMonitor Prometheus selects, matching its Service",
    helm_only=True,
)
def _service_monitors(ctx: Context) -> Iterator[Violation]:
    wanted_labels = _monitor_labels(ctx)
    monitors = ctx.of_kind("ServiceMonitor")
    for name in sorted(ctx.deployed):
        service = ctx.catalog.services[name]
        if service.metrics is None:
            continue
        svc = next((s for s in ctx.of_kind("Service") if s["metadata"].get("name") == name), None)
        if svc is None:
            continue
        namespace = svc["metadata"].get("namespace")
        matching = [
            m
            for m in monitors
            if selector_matches(m["spec"].get("selector"), svc["metadata"].get("labels") or {})
            and (
                (m["spec"].get("namespaceSelector") or {}).get("any")
                or namespace
                in ((m["spec"].get("namespaceSelector") or {}).get("matchNames") or [m["metadata"].get("namespace")])
            )
        ]
        if not matching:
            yield Violation(
                "MON-SERVICE-MONITORS", ref_of(svc), "metadata.labels", "no ServiceMonitor selects this Service"
            )
            continue
        for monitor in matching:
            yield from _outside_selector(ctx, monitor, "serviceMonitorNamespaceSelector")
            labels = monitor["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in wanted_labels.items()):
                yield Violation(
                    "MON-SERVICE-MONITORS", ref_of(monitor), "metadata.labels", f"Prometheus selects {wanted_labels}"
                )
            port_names = {p.get("name") for p in svc["spec"].get("ports") or []}
            for index, endpoint in enumerate(monitor["spec"].get("endpoints") or []):
                if endpoint.get("port") not in port_names:
                    yield Violation(
                        "MON-SERVICE-MONITORS", ref_of(monitor), f"spec.endpoints[{index}].port", "no such Service port"
                    )
                if endpoint.get("path") != service.metrics.path:
                    yield Violation(
                        "MON-SERVICE-MONITORS",
                        ref_of(monitor),
                        f"spec.endpoints[{index}].path",
                        f"must be {service.metrics.path}",
                    )


@SECTION.rule(
    "MON-DASHBOARDS", "every dashboard in the catalog's grafana.dashboards reaches Grafana (sidecar ConfigMap / mount)"
)
def _dashboards(ctx: Context) -> Iterator[Violation]:
    for name, service in ctx.catalog.services.items():
        if not isinstance(service, GrafanaService) or service.local_only:
            continue
        files = [d.rsplit("/", 1)[-1] for d in service.grafana.dashboards]
        if ctx.helm:
            release = ctx.release("kube-prometheus-stack")
            sidecar = (((values_of(release) if release else {}).get("grafana") or {}).get("sidecar") or {}).get(
                "dashboards"
            ) or {}
            label, value = sidecar.get("label", "grafana_dashboard"), sidecar.get("labelValue", "1")
            configmaps = [
                c for c in ctx.of_kind("ConfigMap") if (c["metadata"].get("labels") or {}).get(label) == value
            ]
        else:
            grafana = next((p for p in ctx.pods if p.service == name), None)
            mounted = {(v.get("configMap") or {}).get("name") for v in (grafana.volumes if grafana else [])}
            configmaps = [c for c in ctx.of_kind("ConfigMap") if c["metadata"].get("name") in mounted]
        present = {key for c in configmaps for key in (c.get("data") or {})}
        for file in files:
            if file not in present:
                yield Violation("MON-DASHBOARDS", f"Service {name}", "grafana.dashboards", f"{file} reaches no Grafana")


@SECTION.rule(
    "MON-RULES",
    "every rule file in the catalog's prometheus.rule_files is a PrometheusRule Prometheus selects",
    helm_only=True,
)
def _rules(ctx: Context) -> Iterator[Violation]:
    wanted_labels = _monitor_labels(ctx)
    rules = ctx.of_kind("PrometheusRule")
    for name, service in ctx.catalog.services.items():
        if not isinstance(service, PrometheusService):
            continue
        for relative in service.prometheus.rule_files:
            stem = relative.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            found = [r for r in rules if r["metadata"].get("name", "").startswith(f"rules-{stem}")]
            if not found:
                yield Violation(
                    "MON-RULES", f"Service {name}", "prometheus.rule_files", f"{relative}: no PrometheusRule"
                )
            for item in found:
                yield from _outside_selector(ctx, item, "ruleNamespaceSelector")
                labels = item["metadata"].get("labels") or {}
                if any(labels.get(k) != v for k, v in wanted_labels.items()):
                    yield Violation("MON-RULES", ref_of(item), "metadata.labels", f"Prometheus selects {wanted_labels}")
