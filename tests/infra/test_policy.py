"""`mcpstack policy`: both stacks pass, and every rule catches a deliberately bad object.

Each case takes a rendered stack, breaks one thing, and expects that rule's id, naming the object
and the field. A case must exist for every rule in mcpstack.policy.rules.RULES.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra import charts
from infra.render import Registered, Rendered
from mcpstack.cli import app
from mcpstack.policy import RULES, Violation, check
from mcpstack.policy.templates import TemplateError, with_templates
from tests.infra.conftest import mutable, release, values

Mutation = Callable[[Rendered], None]


def body(r: Rendered, kind: str, name: str) -> dict[str, Any]:
    return r.find(kind, name)


def pod(r: Rendered, name: str) -> dict[str, Any]:
    return body(r, "Deployment", name)["spec"]["template"]["spec"]


def main(r: Rendered, name: str) -> dict[str, Any]:
    return pod(r, name)["containers"][0]


def drop(r: Rendered, kind: str, name: str) -> None:
    r.resources = [
        x
        for x in r.resources
        if not (x.is_kubernetes_object and x.body["kind"] == kind and x.body["metadata"]["name"] == name)
    ]


def policy(r: Rendered, name: str) -> dict[str, Any]:
    return body(r, "NetworkPolicy", name)["spec"]


def peer(service: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"mcpstack.io/service": service}}}


def webui_env(r: Rendered) -> list[dict[str, Any]]:
    return values(r, "open-webui")["extraEnvVars"]


def set_env(entries: list[dict[str, Any]], name: str, entry: dict[str, Any] | None) -> None:
    entries[:] = [e for e in entries if e["name"] != name] + ([entry] if entry else [])


def with_catalog_service(r: Rendered, name: str, **update: Any) -> None:
    service = r.catalog.services[name]
    nested = {k: getattr(service, k).model_copy(update=v) if isinstance(v, dict) else v for k, v in update.items()}
    r.catalog = r.catalog.model_copy(
        update={"services": {**r.catalog.services, name: service.model_copy(update=nested)}}
    )


def add_chart(r: Rendered) -> None:
    r.resources.append(
        Registered(
            urn="urn:x", type="kubernetes:helm.sh/v4:Chart", name="kps", parent="", custom=False, inputs={}, body={}
        )
    )


def rename_ollama_extra_env(r: Rendered) -> None:
    """The mutation trial's miss: the ollama chart's `extraEnv` as `extraEnvVars` (the open-webui
    chart's name), which Helm drops silently: Ollama has no HOME / OLLAMA_MODELS."""
    v = values(r, "ollama")
    v["extraEnvVars"] = v.pop("extraEnv")


def exclude_app_namespace(r: Rendered) -> None:
    """The mutation trial's other miss: Prometheus looks for ServiceMonitors in labelled namespaces only."""
    spec = values(r, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    spec["serviceMonitorNamespaceSelector"] = {"matchLabels": {"monitoring": "enabled"}}


# (rule, stack, what breaks, object the violation names, field it names)
CASES: list[tuple[str, str, Mutation, str, str]] = [
    (
        "K8S-SCHEMA",
        "dev",
        lambda r: body(r, "Deployment", "time")["spec"].update(replicas="two"),
        "Deployment mcpstack-dev/time",
        "spec.replicas",
    ),
    (
        "K8S-SCHEMA",
        "prod",
        lambda r: body(r, "ServiceMonitor", "time")["spec"]["endpoints"][0].update(path="metrics"),
        "ServiceMonitor mcpstack/time",
        "spec.endpoints.0.path",
    ),
    (
        "HELM-CHART-PINNED",
        "prod",
        lambda r: release(r, "open-webui").body.update(version=">=16.0.0"),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "version",
    ),
    ("HELM-HOOKS", "prod", add_chart, "kubernetes:helm.sh/v4:Chart kps", "type"),
    (
        "HARD-RUN-AS-NON-ROOT",
        "dev",
        lambda r: main(r, "time")["securityContext"].update(runAsNonRoot=False),
        "Deployment mcpstack-dev/time",
        "spec.template.spec.containers[0].securityContext.runAsNonRoot",
    ),
    (
        "HARD-RUN-AS-NON-ROOT",
        "prod",
        lambda r: values(r, "ollama")["securityContext"].update(runAsUser=0),
        "HelmRelease mcpstack/ollama (ollama)",
        "values.securityContext.runAsUser",
    ),
    (
        "HARD-READ-ONLY-ROOT-FS",
        "dev",
        lambda r: main(r, "time")["securityContext"].update(readOnlyRootFilesystem=False),
        "Deployment mcpstack-dev/time",
        "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
    ),
    (
        "HARD-NO-PRIVILEGE-ESCALATION",
        "dev",
        lambda r: main(r, "sandbox")["securityContext"].update(allowPrivilegeEscalation=True),
        "Deployment mcpstack-dev/sandbox",
        "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
    ),
    (
        "HARD-DROP-CAPABILITIES",
        "dev",
        lambda r: main(r, "sandbox")["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
        "Deployment mcpstack-dev/sandbox",
        "spec.template.spec.containers[0].securityContext.capabilities.add",
    ),
    (
        "HARD-DROP-CAPABILITIES",
        "prod",
        lambda r: values(r, "open-webui")["containerSecurityContext"].update(capabilities={}),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.containerSecurityContext.capabilities.drop",
    ),
    (
        "HARD-SECCOMP",
        "dev",
        lambda r: (
            main(r, "time")["securityContext"].pop("seccompProfile"),
            pod(r, "time")["securityContext"].pop("seccompProfile"),
        ),
        "Deployment mcpstack-dev/time",
        "spec.template.spec.containers[0].securityContext.seccompProfile.type",
    ),
    (
        "HARD-SECCOMP",
        "prod",
        lambda r: main(r, "sandbox")["securityContext"].update(seccompProfile={"type": "RuntimeDefault"}),
        "Deployment mcpstack/sandbox",
        "spec.template.spec.containers[0].securityContext.seccompProfile",
    ),
    (
        "HARD-RESOURCES",
        "dev",
        lambda r: main(r, "mcpo")["resources"].pop("limits"),
        "Deployment mcpstack-dev/mcpo",
        "spec.template.spec.containers[0].resources.limits.memory",
    ),
    (
        "HARD-RESOURCES",
        "prod",
        lambda r: values(r, "open-webui")["copyAppData"].pop("resources"),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.copyAppData.resources.limits.cpu",
    ),
    (
        "HARD-MEMORY-CEILING",
        "dev",
        lambda r: main(r, "mcpo")["resources"]["limits"].update(memory="1Gi"),
        "Deployment mcpstack-dev/mcpo",
        "spec.template.spec.containers[0].resources.limits.memory",
    ),
    (
        "HARD-PROBES",
        "dev",
        lambda r: main(r, "time").pop("readinessProbe"),
        "Deployment mcpstack-dev/time",
        "spec.template.spec.containers[0].readinessProbe",
    ),
    (
        "HARD-PROBES",
        "dev",
        lambda r: main(r, "github").update(livenessProbe={"httpGet": {"path": "/", "port": "http"}}),
        "Deployment mcpstack-dev/github",
        "spec.template.spec.containers[0].livenessProbe",
    ),
    (
        "HARD-PROBES",
        "dev",
        lambda r: main(r, "mcpo")["readinessProbe"]["httpGet"].update(path="/health"),
        "Deployment mcpstack-dev/mcpo",
        "spec.template.spec.containers[0].readinessProbe",
    ),
    (
        "HARD-IMAGE-PINNED",
        "dev",
        lambda r: main(r, "time").update(image="mcpstack/time:latest"),
        "Deployment mcpstack-dev/time",
        "spec.template.spec.containers[0].image",
    ),
    (
        "HARD-SERVICE-ACCOUNT-TOKEN",
        "dev",
        lambda r: pod(r, "time").update(automountServiceAccountToken=True),
        "Deployment mcpstack-dev/time",
        "spec.template.spec.automountServiceAccountToken",
    ),
    (
        "HARD-RUNTIME-CLASS",
        "dev",
        lambda r: setattr(r, "settings", dataclasses.replace(r.settings, runtime_classes={"sandbox": "gvisor"})),
        "Deployment mcpstack-dev/sandbox",
        "spec.template.spec.runtimeClassName",
    ),
    (
        "NET-DEFAULT-DENY",
        "dev",
        lambda r: drop(r, "NetworkPolicy", "default-deny"),
        "Namespace mcpstack-dev",
        "NetworkPolicy",
    ),
    (
        "NET-POLICY-PER-SERVICE",
        "dev",
        lambda r: policy(r, "time")["podSelector"]["matchLabels"].update({"mcpstack.io/service": "tme"}),
        "NetworkPolicy mcpstack-dev/time",
        "spec.podSelector",
    ),
    (
        "NET-INGRESS-DEPENDENTS",
        "dev",
        lambda r: policy(r, "time")["ingress"].append(
            {"from": [peer("grafana")], "ports": [{"protocol": "TCP", "port": 8003}]}
        ),
        "NetworkPolicy mcpstack-dev/time",
        "spec.ingress[2]",
    ),
    (
        "NET-MCP-SERVERS-GATEWAY-ONLY",
        "dev",
        lambda r: policy(r, "sandbox")["ingress"].append({"from": [peer("open-webui")]}),
        "NetworkPolicy mcpstack-dev/sandbox",
        "spec.ingress[2]",
    ),
    (
        "NET-GATEWAY-WEBUI-ONLY",
        "dev",
        lambda r: policy(r, "mcpo")["ingress"].append({"ports": [{"protocol": "TCP", "port": 8080}]}),
        "NetworkPolicy mcpstack-dev/mcpo",
        "spec.ingress[2]",
    ),
    (
        "NET-EGRESS-DEPENDENCIES",
        "dev",
        lambda r: policy(r, "mcpo")["egress"].insert(
            0, {"to": [peer("ollama")], "ports": [{"protocol": "TCP", "port": 11434}]}
        ),
        "NetworkPolicy mcpstack-dev/mcpo",
        "spec.egress[0]",
    ),
    (
        "NET-EGRESS-DEPENDENCIES",
        "prod",
        lambda r: policy(r, "time")["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}),
        "NetworkPolicy mcpstack/time",
        "spec.egress[0]",
    ),
    (
        "NET-NO-EGRESS",
        "dev",
        lambda r: policy(r, "sandbox")["egress"].append(policy(r, "mcpo")["egress"][-1]),
        "NetworkPolicy mcpstack-dev/sandbox",
        "spec.egress",
    ),
    (
        "NET-DNS",
        "dev",
        lambda r: policy(r, "mcpo")["egress"].pop(),
        "Deployment mcpstack-dev/mcpo",
        "NetworkPolicy.spec.egress",
    ),
    (
        "NET-PROMETHEUS-SCRAPE",
        "prod",
        lambda r: policy(r, "time")["ingress"].pop(),
        "Deployment mcpstack/time",
        "NetworkPolicy.spec.ingress",
    ),
    (
        "SEC-NO-PLAINTEXT",
        "dev",
        lambda r: main(r, "mcpo").setdefault("env", []).insert(0, {"name": "KEY", "value": "<secret:gateway-key-e2e>"}),
        "Deployment mcpstack-dev/mcpo",
        "spec.template.spec.containers[0].env[0].value",
    ),
    (
        "SEC-NO-PLAINTEXT",
        "dev",
        lambda r: body(r, "ConfigMap", "prometheus-config")["data"].update(token="Bearer <secret:github-token>"),
        "ConfigMap mcpstack-dev/prometheus-config",
        "data.token",
    ),
    (
        "SEC-NO-PLAINTEXT",
        "prod",
        lambda r: values(r, "open-webui").update(databaseUrl="<secret:database-url>"),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.databaseUrl",
    ),
    (
        "SEC-FROM-SECRETS",
        "dev",
        lambda r: set_env(main(r, "open-webui")["env"], "WEBUI_SECRET_KEY", {"name": "WEBUI_SECRET_KEY", "value": "x"}),
        "Deployment mcpstack-dev/open-webui",
        "spec.template.spec.containers[0].env",
    ),
    (
        "SEC-FROM-SECRETS",
        "dev",
        lambda r: next(v for v in pod(r, "mcpo")["volumes"] if v["name"] == "generated").update(
            secret=None, configMap={"name": "mcpo-config"}
        ),
        "Deployment mcpstack-dev/mcpo",
        "spec.template.spec.containers[0].volumeMounts",
    ),
    (
        "SEC-FROM-SECRETS",
        "prod",
        lambda r: next(e for e in webui_env(r) if e["name"] == "DATABASE_URL")["valueFrom"]["secretKeyRef"].update(
            name="other"
        ),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.extraEnvVars",
    ),
    (
        "SEC-MARKED-SECRET",
        "dev",
        lambda r: setattr(r.resource("Secret", "mcpo-secrets"), "secret_paths", []),
        "Secret mcpstack-dev/mcpo-secrets",
        "stringData",
    ),
    (
        "SVC-SELECTS-PODS",
        "dev",
        lambda r: body(r, "Service", "time")["spec"].update(selector={"mcpstack.io/service": "clock"}),
        "Service mcpstack-dev/time",
        "spec.selector",
    ),
    (
        "SVC-SELECTS-PODS",
        "dev",
        lambda r: body(r, "Service", "time")["spec"]["ports"][0].update(port=80),
        "Service mcpstack-dev/time",
        "spec.ports[0].port",
    ),
    (
        "SVC-SELECTS-PODS",
        "dev",
        lambda r: body(r, "Service", "sandbox")["spec"]["ports"][0].update(targetPort="web"),
        "Service mcpstack-dev/sandbox",
        "spec.ports[0].targetPort",
    ),
    (
        "MON-SERVICE-MONITORS",
        "prod",
        lambda r: body(r, "ServiceMonitor", "time")["spec"]["selector"]["matchLabels"].update(
            {"mcpstack.io/service": "clock"}
        ),
        "Service mcpstack/time",
        "metadata.labels",
    ),
    (
        "MON-SERVICE-MONITORS",
        "prod",
        lambda r: body(r, "ServiceMonitor", "mcpo")["metadata"]["labels"].pop("release"),
        "ServiceMonitor mcpstack/mcpo",
        "metadata.labels",
    ),
    (
        "MON-SERVICE-MONITORS",
        "prod",
        exclude_app_namespace,
        "ServiceMonitor mcpstack/time",
        "metadata.namespace",
    ),
    (
        "MON-SERVICE-MONITORS",
        "prod",
        lambda r: body(r, "ServiceMonitor", "time")["spec"].update(
            namespaceSelector={"matchNames": ["mcpstack-monitoring"]}
        ),
        "Service mcpstack/time",
        "metadata.labels",
    ),
    (
        "MON-DASHBOARDS",
        "prod",
        lambda r: with_catalog_service(r, "grafana", grafana={"dashboards": ["dashboards/slo.json"]}),
        "Service grafana",
        "grafana.dashboards",
    ),
    (
        "MON-DASHBOARDS",
        "dev",
        lambda r: with_catalog_service(r, "grafana", grafana={"dashboards": ["dashboards/slo.json"]}),
        "Service grafana",
        "grafana.dashboards",
    ),
    (
        "MON-RULES",
        "prod",
        lambda r: with_catalog_service(r, "prometheus", prometheus={"rule_files": ["alerts/slo.yaml"]}),
        "Service prometheus",
        "prometheus.rule_files",
    ),
    (
        "HA-REPLICAS",
        "prod",
        lambda r: body(r, "Deployment", "time")["spec"].update(replicas=1),
        "Deployment mcpstack/time",
        "spec.replicas",
    ),
    (
        "HA-AUTOSCALER",
        "prod",
        lambda r: drop(r, "HorizontalPodAutoscaler", "sandbox"),
        "Deployment mcpstack/sandbox",
        "HorizontalPodAutoscaler",
    ),
    (
        "HA-AUTOSCALER",
        "prod",
        lambda r: body(r, "HorizontalPodAutoscaler", "mcpo")["spec"].update(minReplicas=1),
        "HorizontalPodAutoscaler mcpstack/mcpo",
        "spec",
    ),
    (
        "HA-DISRUPTION-BUDGET",
        "prod",
        lambda r: drop(r, "PodDisruptionBudget", "open-webui"),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "labels",
    ),
    (
        "HA-SPREAD",
        "prod",
        lambda r: (pod(r, "mcpo").pop("topologySpreadConstraints"), pod(r, "mcpo").pop("affinity")),
        "Deployment mcpstack/mcpo",
        "spec.template.spec.topologySpreadConstraints",
    ),
    (
        "PROD-WEBUI-REPLICAS",
        "prod",
        lambda r: values(r, "open-webui").update(replicaCount=2),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.replicaCount",
    ),
    (
        "PROD-WEBUI-POSTGRES",
        "prod",
        lambda r: (
            set_env(webui_env(r), "DATABASE_URL", None),
            values(r, "open-webui").update(databaseUrl="postgresql://u:p@db/x"),
        ),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.databaseUrl",
    ),
    (
        "PROD-WEBUI-VECTOR-DB",
        "prod",
        lambda r: set_env(webui_env(r), "VECTOR_DB", {"name": "VECTOR_DB", "value": "chroma"}),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "env.VECTOR_DB",
    ),
    (
        "PROD-WEBUI-REDIS",
        "prod",
        lambda r: values(r, "open-webui")["websocket"].update(manager=""),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.websocket",
    ),
    (
        "PROD-WEBUI-SECRET-KEY",
        "prod",
        lambda r: set_env(webui_env(r), "WEBUI_SECRET_KEY", {"name": "WEBUI_SECRET_KEY", "value": "shared"}),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "env.WEBUI_SECRET_KEY",
    ),
    (
        "PROD-WEBUI-SHARED-STORAGE",
        "prod",
        lambda r: body(r, "PersistentVolumeClaim", "open-webui-data")["spec"].update(accessModes=["ReadWriteOnce"]),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.persistence.accessModes",
    ),
    (
        "PROD-WEBUI-SHARED-STORAGE",
        "prod",
        lambda r: values(r, "open-webui")["persistence"].update(existingClaim="", accessModes=["ReadWriteOnce"]),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.persistence.accessModes",
    ),
    (
        "PROD-WEBUI-SHARED-STORAGE",
        "prod",
        lambda r: values(r, "open-webui")["workload"].update(kind="StatefulSet"),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.workload.kind",
    ),
    (
        "PROD-WEBUI-BUNDLED-OFF",
        "prod",
        lambda r: values(r, "open-webui")["ollama"].update(enabled=True),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.ollama.enabled",
    ),
    (
        "PROD-WEBUI-TOOL-SERVERS",
        "prod",
        lambda r: set_env(
            webui_env(r),
            "ENABLE_FORWARD_USER_INFO_HEADERS",
            {"name": "ENABLE_FORWARD_USER_INFO_HEADERS", "value": "false"},
        ),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "env.ENABLE_FORWARD_USER_INFO_HEADERS",
    ),
    (
        "HELM-VALUES-KNOWN",
        "prod",
        rename_ollama_extra_env,
        "HelmRelease mcpstack/ollama (ollama)",
        "values.extraEnvVars",
    ),
    (
        "HELM-VALUES-KNOWN",
        "prod",
        lambda r: values(r, "open-webui")["persistence"].update(existingClam="open-webui-data"),
        "HelmRelease mcpstack/open-webui (open-webui)",
        "values.persistence.existingClam",
    ),
    (
        "PROD-OLLAMA",
        "prod",
        rename_ollama_extra_env,
        "HelmRelease mcpstack/ollama (ollama)",
        "values.extraEnv",
    ),
    (
        "PROD-OLLAMA",
        "prod",
        lambda r: values(r, "ollama")["ollama"]["gpu"].update(enabled=False),
        "HelmRelease mcpstack/ollama (ollama)",
        "values.ollama.gpu",
    ),
    (
        "PROD-OLLAMA",
        "prod",
        lambda r: values(r, "ollama")["ollama"]["models"].update(pull=["llama2"]),
        "HelmRelease mcpstack/ollama (ollama)",
        "values.ollama.models.pull",
    ),
]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_pass(stack: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(stack)
    assert check(rendered) == []


@pytest.mark.parametrize(
    ("rule_id", "stack", "mutate", "where", "field"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_rule_catches_a_violation(
    rule_id: str, stack: str, mutate: Mutation, where: str, field: str, request: pytest.FixtureRequest
) -> None:
    rendered = mutable(request.getfixturevalue(stack))
    mutate(rendered)
    found = [v for v in check(rendered) if v.rule == rule_id]
    assert found, f"{rule_id} did not fire"
    assert any(v.object == where and v.field.startswith(field) for v in found), "\n".join(map(str, found))


def test_every_rule_has_a_case_and_a_stable_unique_id() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.description for rule in RULES)
    assert {c[0] for c in CASES} == set(ids)


def test_a_violation_names_rule_object_field_and_problem() -> None:
    violation = Violation("HARD-SECCOMP", "Deployment ns/time", "spec.x", "must be RuntimeDefault")
    assert str(violation) == "HARD-SECCOMP Deployment ns/time: spec.x: must be RuntimeDefault"


def test_multi_replica_open_webui_in_the_dev_stack_needs_the_same_invariants(dev: Rendered) -> None:
    rendered = mutable(dev)
    rendered.find("Deployment", "open-webui")["spec"]["replicas"] = 3
    fired = {v.rule for v in check(rendered)}
    assert {"PROD-WEBUI-POSTGRES", "PROD-WEBUI-REDIS", "PROD-WEBUI-SHARED-STORAGE", "PROD-WEBUI-VECTOR-DB"} <= fired
    assert "PROD-WEBUI-REPLICAS" not in fired  # a production-only rule


def test_mcpstack_policy_prod_catches_the_two_mutations_the_trial_missed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the command line, with the mutations made where a developer would make them: in the
    values builders of infra/charts.py."""
    ollama_values, kps_values = charts.ollama_values, charts.kube_prometheus_stack_values

    def renamed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        found = ollama_values(*args, **kwargs)
        found["extraEnvVars"] = found.pop("extraEnv")
        return found

    def excluding(*args: Any, **kwargs: Any) -> dict[str, Any]:
        found = kps_values(*args, **kwargs)
        selector = {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["mcpstack"]}]
        }
        found["prometheus"]["prometheusSpec"]["serviceMonitorNamespaceSelector"] = selector
        return found

    result = CliRunner().invoke(app, ["policy", "prod"])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(charts, "ollama_values", renamed)
    monkeypatch.setattr(charts, "kube_prometheus_stack_values", excluding)
    result = CliRunner().invoke(app, ["policy", "prod"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(
        line.startswith("HELM-VALUES-KNOWN HelmRelease mcpstack/ollama (ollama): values.extraEnvVars") for line in lines
    )
    assert any(line.startswith("PROD-OLLAMA HelmRelease mcpstack/ollama (ollama): values.extraEnv:") for line in lines)
    assert any(
        line.startswith("MON-SERVICE-MONITORS ServiceMonitor mcpstack/time: metadata.namespace") for line in lines
    ), result.output


TINY_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: ollama\nversion: 1.77.0\n",
    "values.yaml": "extraEnv: []\n",
    # a Deployment as a chart might make it: the env from values, but no security context at all
    "templates/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: ollama
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          env: {{ toJson .Values.extraEnv }}
""",
}


def write_chart(directory: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = directory / "ollama-1.77.0" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def test_present_charts_are_rendered_and_their_real_objects_checked(prod: Rendered, tmp_path: Path) -> None:
    charts_dir = write_chart(tmp_path / "charts", TINY_CHART)
    complete, used = with_templates(prod, charts_dir)
    assert used == ["ollama-1.77.0"]
    deployment = complete.find("Deployment", "ollama", "mcpstack")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ollama/ollama:0.32.15"
    assert {e["name"]: e["value"] for e in container["env"]} == {"HOME": "/tmp", "OLLAMA_MODELS": "/models"}
    found = [v for v in check(prod, charts_dir) if v.object == "Deployment mcpstack/ollama"]
    assert {"HARD-RUN-AS-NON-ROOT", "HARD-RESOURCES", "HARD-READ-ONLY-ROOT-FS"} <= {v.rule for v in found}
    assert [v for v in check(prod, tmp_path / "none") if v.object == "Deployment mcpstack/ollama"] == []


def test_a_chart_that_does_not_render_is_an_error(prod: Rendered, tmp_path: Path) -> None:
    broken = {**TINY_CHART, "templates/deployment.yaml": "{{ .Values.image.nope.deeper }}"}
    with pytest.raises(TemplateError, match=r"ollama-1\.77\.0"):
        with_templates(prod, write_chart(tmp_path, broken))
