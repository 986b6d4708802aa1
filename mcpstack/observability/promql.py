"""The PromQL of the catalog's dashboards and rule files, and the metric names it uses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from mcpstack.catalog.models import Catalog, GrafanaService, PrometheusService

# Grafana's variables, replaced by concrete values when a query is sent to Prometheus directly.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}
PROMQL_WORDS = {
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "group",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "histogram_quantile",
    "vector",
    "scalar",
    "abs",
    "absent",
    "clamp_min",
    "clamp_max",
    "label_replace",
    "time",
    "timestamp",
    "sort",
    "sort_desc",
    "round",
    "ceil",
    "floor",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "sum_over_time",
    "count_over_time",
    "predict_linear",
    "changes",
    "resets",
    "Inf",
    "NaN",
    "inf",
    "nan",
}
BUILT_IN_METRICS = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:(])")


@dataclass(frozen=True)
class Query:
    source: str  # "dashboards/overview.json: panel 3 'Latency'" or "alerts/x.yaml: alert TargetDown"
    expr: str

    @property
    def concrete(self) -> str:
        text = self.expr
        for variable, value in GRAFANA_VARIABLES.items():
            text = text.replace(variable, value)
        return text


def metric_names(expr: str) -> set[str]:
    text = _GROUPING.sub(" ", _RANGES.sub(" ", _MATCHERS.sub(" ", _STRINGS.sub('""', expr))))
    text = re.sub(r"\b\d+(\.\d+)?(e[+-]?\d+)?\b", " ", text)
    return {name for name in _IDENTIFIER.findall(text) if name not in PROMQL_WORDS}


def load_dashboards(catalog: Catalog, config_dir: Path) -> dict[str, dict]:
    found = {}
    for service in catalog.services.values():
        if isinstance(service, GrafanaService):
            for relative in service.grafana.dashboards:
                found[relative] = json.loads((config_dir / relative).read_text(encoding="utf-8"))
    return found


def panels(dashboard: dict) -> list[dict]:
    flat = []
    for panel in dashboard.get("panels", []):
        flat.append(panel)
        flat.extend(panel.get("panels", []))  # panels inside collapsed rows
    return flat


def dashboard_queries(catalog: Catalog, config_dir: Path) -> list[Query]:
    queries = []
    for relative, dashboard in load_dashboards(catalog, config_dir).items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    queries.append(Query(f"{relative}: panel {panel.get('id')} {panel.get('title')!r}", target["expr"]))
    return queries


def rule_files(catalog: Catalog) -> list[str]:
    return [f for s in catalog.services.values() if isinstance(s, PrometheusService) for f in s.prometheus.rule_files]


def rule_queries(catalog: Catalog, config_dir: Path) -> list[Query]:
    queries = []
    for relative in rule_files(catalog):
        for group in yaml.safe_load((config_dir / relative).read_text(encoding="utf-8")).get("groups", []):
            for rule in group.get("rules", []):
                kind = "alert" if "alert" in rule else "record"
                queries.append(Query(f"{relative}: {kind} {rule.get(kind)}", rule["expr"]))
    return queries


def recorded_names(catalog: Catalog, config_dir: Path) -> set[str]:
    return {q.source.rpartition("record ")[2] for q in rule_queries(catalog, config_dir) if ": record " in q.source}
