"""The dev stack under Pulumi's mocks: what the program registers, asserted on its inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.components.workload import DashboardError
from infra.render import Rendered
from mcpstack.deployment import labels as scheme
from mcpstack.generate import GENERATORS, redacted
from mcpstack.generate.open_webui import offered_routes
from mcpstack.policy.views import selector_matches
from tests.infra.conftest import container, env, obj, objects, render_with, secret_data, set_catalog_line

KIND_TYPES = {
    "mcp-server": "mcpstack:component:McpServer",
    "gateway": "mcpstack:component:Gateway",
    "open-webui": "mcpstack:component:OpenWebUI",
    "llm": "mcpstack:component:Ollama",
    "prometheus": "mcpstack:component:Prometheus",
    "grafana": "mcpstack:component:Grafana",
}


def deployed(rendered: Rendered) -> list[str]:
    return [n for n, s in rendered.catalog.services.items() if not s.local_only]


def test_one_component_per_catalog_service_of_its_kind_and_no_local_stand_ins(dev: Rendered) -> None:
    components = {c.name: c.type for c in dev.components()}
    for name in deployed(dev):
        assert components[name] == KIND_TYPES[dev.catalog.services[name].kind], name
    local_only = {n for n, s in dev.catalog.services.items() if s.local_only}
    assert local_only, "the dev catalog has local stand-ins (llm-standin, github-local, ...)"
    names = {o["metadata"]["name"] for o in dev.objects()}
    assert not local_only & names
    assert {o["metadata"]["name"] for o in objects(dev, "Deployment")} == set(deployed(dev))


def test_every_object_is_a_child_of_a_component_and_lives_in_the_stack_namespace(dev: Rendered) -> None:
    component_urns = {c.urn for c in dev.components()}
    namespace = dev.settings.namespace
    for resource in dev.resources:
        if resource.custom and not resource.is_provider:
            assert resource.parent in component_urns, f"{resource.type} {resource.name} has no component parent"
            if resource.body["kind"] != "Namespace":
                assert resource.body["metadata"]["namespace"] == namespace, resource.name
    workload = next(c for c in dev.components() if c.name == "time")
    assert set(workload.outputs) == {"service_name", "url"}
    assert workload.outputs["url"] == "http://time:8003"


def test_deployment_selectors_match_their_pods_and_services_select_them_on_container_ports(dev: Rendered) -> None:
    for name in deployed(dev):
        deployment = obj(dev, "Deployment", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector_matches(deployment["spec"]["selector"], pod_labels), name
        service = obj(dev, "Service", name)
        assert selector_matches({"matchLabels": service["spec"]["selector"]}, pod_labels), name
        ports = {p["name"]: p["containerPort"] for p in container(dev, name)["ports"]}
        for port in service["spec"]["ports"]:
            assert ports[port["targetPort"]] == port["port"], (name, port)
        assert {p.name: p.port for p in dev.catalog.services[name].ports} == ports


def test_secrets_are_marked_secret_and_come_from_config_placeholders(dev: Rendered) -> None:
    for resource in dev.resources:
        if resource.is_kubernetes_object and resource.body["kind"] == "Secret":
            assert "stringData" in resource.secret_paths, resource.name
    keys = secret_data(dev, "mcpo-secrets")
    referenced = {ref.secret for ref in dev.catalog.services["mcpo"].secrets}
    assert {"gateway-key-e2e", "gateway-key-loadtest", "gateway-key-open-webui"} <= referenced
    assert keys == {name: redacted(name) for name in referenced}
    for config_map in objects(dev, "ConfigMap"):
        assert "<secret:" not in json.dumps(config_map)


def test_the_gateway_mounts_its_generated_config_from_a_secret(dev: Rendered) -> None:
    generated = secret_data(dev, "mcpo-generated")["gateway-config"]
    assert generated == GENERATORS["gateway-config"].render(dev.catalog, "mcpo", redacted)
    pod = obj(dev, "Deployment", "mcpo")["spec"]["template"]["spec"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/etc/mcpstack/gateway.json")
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "mcpo-generated"
    assert mount["subPath"] == "gateway-config" and mount["readOnly"] is True


def test_prometheus_gets_the_generated_scrape_config_and_grafana_the_datasource(dev: Rendered) -> None:
    prometheus = obj(dev, "ConfigMap", "prometheus-config")["data"]["prometheus-config"]
    assert prometheus == GENERATORS["prometheus-config"].render(dev.catalog, "prometheus", redacted)
    grafana = obj(dev, "ConfigMap", "grafana-config")["data"]["grafana-datasources"]
    assert "http://prometheus:9090" in grafana
    assert env(container(dev, "grafana")["env"])["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "grafana-secrets",
        "key": "grafana-admin-password",
    }


def test_open_webui_keeps_sqlite_on_a_claim_and_reads_tool_servers_from_a_secret(dev: Rendered) -> None:
    pod = obj(dev, "Deployment", "open-webui")["spec"]["template"]["spec"]
    claim = next(v for v in pod["volumes"] if "persistentVolumeClaim" in v)["persistentVolumeClaim"]["claimName"]
    assert obj(dev, "PersistentVolumeClaim", claim)["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert obj(dev, "Deployment", "open-webui")["spec"]["strategy"] == {"type": "Recreate"}
    variables = env(pod["containers"][0]["env"])
    assert "DATABASE_URL" not in variables  # SQLite in DATA_DIR
    source = variables["TOOL_SERVER_CONNECTIONS"]["valueFrom"]["secretKeyRef"]
    connections = json.loads(secret_data(dev, source["name"])[source["key"]])
    assert {c["info"]["id"] for c in connections} == set(offered_routes(dev.catalog, "open-webui"))
    assert all(c["key"] == redacted("gateway-key-open-webui") for c in connections)


def test_ollama_pulls_the_catalog_models_with_a_hardened_job(dev: Rendered) -> None:
    job = obj(dev, "Job", "ollama-models")
    commands = [c["command"] for c in job["spec"]["template"]["spec"]["containers"]]
    assert commands == [["/bin/ollama", "pull", m] for m in dev.catalog.services["ollama"].llm.models]
    pull = job["spec"]["template"]["spec"]["containers"][0]
    assert env(pull["env"])["OLLAMA_HOST"]["value"] == "http://ollama:11434"
    assert pull["securityContext"]["readOnlyRootFilesystem"] is True
    policy = obj(dev, "NetworkPolicy", "ollama")
    assert {"podSelector": {"matchLabels": {scheme.SERVICE: "ollama-models"}}} in policy["spec"]["ingress"][0]["from"]


def test_network_policies_select_the_pods_and_follow_the_dependency_graph(dev: Rendered) -> None:
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in objects(dev, "Deployment")}
    pods["ollama-models"] = obj(dev, "Job", "ollama-models")["spec"]["template"]["metadata"]["labels"]
    for policy in objects(dev, "NetworkPolicy"):
        selected = [n for n, labels in pods.items() if selector_matches(policy["spec"]["podSelector"], labels)]
        if policy["metadata"]["name"] == "default-deny":
            assert len(selected) == len(pods) and not policy["spec"].get("ingress") and not policy["spec"].get("egress")
        else:
            assert selected == [policy["metadata"]["name"]]
    assert obj(dev, "NetworkPolicy", "sandbox")["spec"]["egress"] == []
    mcpo_from = [p for rule in obj(dev, "NetworkPolicy", "mcpo")["spec"]["ingress"] for p in rule["from"]]
    assert {p["podSelector"]["matchLabels"][scheme.SERVICE] for p in mcpo_from} == {"open-webui", "prometheus"}
    time_from = [p for rule in obj(dev, "NetworkPolicy", "time")["spec"]["ingress"] for p in rule["from"]]
    assert {p["podSelector"]["matchLabels"][scheme.SERVICE] for p in time_from} == {"mcpo", "prometheus"}
    github_egress = obj(dev, "NetworkPolicy", "github")["spec"]["egress"]
    assert any(p.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for r in github_egress for p in r["to"])


def test_the_namespace_enforces_restricted_pod_security(dev: Rendered) -> None:
    labels = obj(dev, "Namespace", dev.settings.namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_registry_prefix_applies_to_our_images_only_and_runtime_classes_to_their_service(
    config_copy: Path,
) -> None:
    rendered = render_with(
        config_copy, "dev", imageRegistry="registry.example.com/team", runtimeClasses=["sandbox=gvisor"]
    )
    assert container(rendered, "time")["image"] == (  # by the digest recorded for that registry (conftest)
        "registry.example.com/team/mcpstack/time@sha256:0000000000000000000000000000000000000000000000000000000000000016"
    )
    assert container(rendered, "github")["image"] == rendered.catalog.services["github"].image.ref
    assert obj(rendered, "Deployment", "sandbox")["spec"]["template"]["spec"]["runtimeClassName"] == "gvisor"
    assert "runtimeClassName" not in obj(rendered, "Deployment", "time")["spec"]["template"]["spec"]


def test_catalog_dashboards_are_provisioned_into_grafana(config_copy: Path) -> None:
    config = set_catalog_line(config_copy, "      dashboards:", "      dashboards: [test-dashboards/gateway.json]")
    (config / "test-dashboards").mkdir()
    (config / "test-dashboards" / "gateway.json").write_text('{"title": "Gateway", "uid": "gateway"}')
    rendered = render_with(config, "dev")
    dashboards = obj(rendered, "ConfigMap", "grafana-dashboards")["data"]
    assert json.loads(dashboards["gateway.json"])["uid"] == "gateway"
    assert "/etc/grafana/dashboards/mcpstack" in dashboards["provider.yaml"]
    mounts = {m["mountPath"] for m in container(rendered, "grafana")["volumeMounts"]}
    assert {"/etc/grafana/dashboards/mcpstack", "/etc/grafana/provisioning/dashboards/mcpstack.yaml"} <= mounts


def test_a_listed_dashboard_that_is_not_json_stops_the_render(config_copy: Path) -> None:
    config = set_catalog_line(config_copy, "      dashboards:", "      dashboards: [test-dashboards/broken.json]")
    (config / "test-dashboards").mkdir()
    (config / "test-dashboards" / "broken.json").write_text("{nope")
    with pytest.raises(DashboardError, match=r"dashboards/broken\.json is not JSON"):
        render_with(config, "dev")


def test_the_sandbox_keeps_its_catalog_hardening(dev: Rendered) -> None:
    security = dev.catalog.services["sandbox"].security
    assert security.seccomp_profile  # the sandbox engineer's profile (bubblewrap needs user namespaces)
    sandbox = obj(dev, "Deployment", "sandbox")["spec"]["template"]["spec"]
    profile = sandbox["containers"][0]["securityContext"]["seccompProfile"]
    assert profile == {"type": "Localhost", "localhostProfile": f"mcpstack/{Path(security.seccomp_profile).name}"}
    tmp = next(v for v in sandbox["volumes"] if v["name"] == "tmpfs-0")
    assert tmp["emptyDir"] == {"medium": "Memory", "sizeLimit": security.tmpfs_size}
