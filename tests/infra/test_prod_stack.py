"""The prod stack under Pulumi's mocks: Helm releases (chart, version, repository, values), our
highly available services, monitoring, NetworkPolicies and secrets, asserted on registered inputs."""

from __future__ import annotations

import json
from pathlib import Path

from infra import charts
from infra.render import HELM_RELEASE, Rendered
from mcpstack.generate import GENERATORS, redacted
from mcpstack.policy.views import selector_matches
from tests.conftest import EditConfig
from tests.infra.conftest import env, obj, objects, release, render_with, secret_data, set_catalog_line, values

OUR_SERVICES = ("time", "sandbox", "mcpo", "github")


def test_every_chart_is_a_pinned_helm_v3_release(prod: Rendered) -> None:
    releases = {r.body["chart"]: r for r in prod.releases()}
    assert set(releases) == {"open-webui", "ollama", "kube-prometheus-stack"}
    for chart in charts.CHARTS:
        found = releases[chart.name]
        assert found.type == HELM_RELEASE  # Helm installs it: chart hooks run
        assert found.body["version"] == chart.version
        assert found.body["repositoryOpts"] == {"repo": chart.repository}
        assert found.body["name"] == chart.release
    assert releases["open-webui"].body["namespace"] == prod.settings.namespace
    assert releases["kube-prometheus-stack"].body["namespace"] == prod.settings.monitoring_namespace
    assert not [r for r in prod.resources if ":Chart" in r.type]


def test_open_webui_replicas_share_postgres_redis_one_key_and_storage(prod: Rendered) -> None:
    v = values(prod, "open-webui")
    catalog = prod.catalog.services["open-webui"]
    assert v["replicaCount"] == catalog.replicas >= 3
    assert v["workload"] == {"kind": "Deployment"}
    assert v["persistence"]["accessModes"] == ["ReadWriteMany"]
    assert v["persistence"]["storageClass"] == prod.settings.shared_storage_class == "nfs-rwx"
    variables = env(v["extraEnvVars"])
    for variable, secret in (
        ("DATABASE_URL", "database-url"),
        ("WEBUI_SECRET_KEY", "webui-secret-key"),
        ("WEBUI_ADMIN_PASSWORD", "webui-admin-password"),
    ):
        ref = variables[variable]["valueFrom"]["secretKeyRef"]
        assert ref["key"] == secret
        assert secret_data(prod, ref["name"])[secret] == redacted(secret)
    assert v.get("databaseUrl", "") == ""
    assert variables["VECTOR_DB"]["value"] == "pgvector"
    redis = prod.catalog.services["redis"]
    assert v["websocket"] == {
        "enabled": True,
        "manager": "redis",
        "existingSecret": v["websocket"]["existingSecret"],
        "existingSecretKey": charts.REDIS_URL_KEY,
        "redis": {"enabled": False},
    }
    url = secret_data(prod, v["websocket"]["existingSecret"])[charts.REDIS_URL_KEY]
    assert url == f"redis://:%3Csecret%3Aredis-password%3E@redis:{redis.ports[0].port}/1"
    assert v["ollama"] == {"enabled": False} and v["pipelines"] == {"enabled": False}
    assert variables["ENABLE_FORWARD_USER_INFO_HEADERS"]["value"] == "true"
    assert variables["OLLAMA_BASE_URL"]["value"] == "http://ollama:11434"


def test_open_webui_tool_servers_are_the_gateway_routes_from_a_secret(prod: Rendered) -> None:
    ref = env(values(prod, "open-webui")["extraEnvVars"])["TOOL_SERVER_CONNECTIONS"]["valueFrom"]["secretKeyRef"]
    content = secret_data(prod, ref["name"])[ref["key"]]
    assert content == GENERATORS["tool-server-connections"].render(prod.catalog, "open-webui", redacted)
    urls = {c["url"] for c in json.loads(content)}
    routes = prod.catalog.services["mcpo"].gateway.routes
    assert urls == {f"http://mcpo:8080/{name}" for name, route in routes.items() if route.offer_to_users}


def test_open_webui_runs_our_image_hardened_behind_an_ingress(prod: Rendered) -> None:
    v = values(prod, "open-webui")
    # by digest: the chart prints REPOSITORY:TAG, i.e. …/open-webui@sha256:DIGEST
    assert v["image"]["repository"] == "registry.example.com/mcpstack-images/mcpstack/open-webui@sha256"
    assert f"sha256:{v['image']['tag']}" == prod.settings.images.digests[prod.catalog.services["open-webui"].image.ref]
    assert v["command"] == prod.catalog.services["open-webui"].command
    assert v["containerSecurityContext"]["readOnlyRootFilesystem"] is True
    assert v["containerSecurityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert v["ingress"] == {
        "enabled": True,
        "class": "nginx",
        "host": "chat.example.com",
        "tls": True,
        "existingSecret": "chat-example-com-tls",
    }
    assert v["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    budget = obj(prod, "PodDisruptionBudget", "open-webui")
    pod_labels = charts.open_webui_pod_selector() | v["podLabels"]
    assert selector_matches(budget["spec"]["selector"], pod_labels)
    assert all(selector_matches(c["labelSelector"], pod_labels) for c in v["topologySpreadConstraints"])


def test_ollama_gets_a_gpu_the_catalog_models_and_a_volume(prod: Rendered) -> None:
    v = values(prod, "ollama")
    ollama = prod.catalog.services["ollama"]
    assert v["ollama"]["gpu"] == {"enabled": True, "type": "nvidia", "number": 1}
    assert v["ollama"]["models"]["pull"] == ollama.llm.models
    assert v["ollama"]["mountPath"] == "/models"
    assert v["persistentVolume"]["enabled"] is True and v["persistentVolume"]["size"] == "50Gi"
    assert v["image"] == {"repository": "ollama/ollama", "tag": ollama.image.tag, "pullPolicy": "IfNotPresent"}
    assert ollama.image.tag == charts.OLLAMA.app_version
    assert v["tests"] == {"enabled": False}


def test_our_services_are_highly_available(prod: Rendered) -> None:
    for name in OUR_SERVICES:
        deployment = obj(prod, "Deployment", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["replicas"] >= 2, name
        scaler = obj(prod, "HorizontalPodAutoscaler", name)["spec"]
        assert scaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert scaler["minReplicas"] == deployment["spec"]["replicas"] and scaler["maxReplicas"] >= 2
        assert selector_matches(obj(prod, "PodDisruptionBudget", name)["spec"]["selector"], pod_labels)
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert all(selector_matches(c["labelSelector"], pod_labels) for c in spread), name
        limit = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
        assert limit in ("64Mi", "128Mi", "256Mi", "512Mi"), name
    assert obj(prod, "Deployment", "redis")["spec"]["replicas"] == 1


def test_service_monitors_select_our_services_for_the_stack_prometheus(prod: Rendered) -> None:
    monitors = {m["metadata"]["name"]: m for m in objects(prod, "ServiceMonitor")}
    with_metrics = {n for n in (*OUR_SERVICES, "redis-exporter") if prod.catalog.services[n].metrics}
    assert set(monitors) == with_metrics
    release_name = release(prod, "kube-prometheus-stack").body["name"]
    for name, monitor in monitors.items():
        service = obj(prod, "Service", name)
        assert selector_matches(monitor["spec"]["selector"], service["metadata"]["labels"])
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [prod.settings.namespace]}
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
        assert endpoint["path"] == prod.catalog.services[name].metrics.path
        assert endpoint["interval"] == "15s"  # prod overlay
        assert monitor["metadata"]["labels"]["release"] == release_name
        assert monitor["metadata"]["namespace"] == prod.settings.namespace


def test_monitoring_values_come_from_the_catalog(prod: Rendered) -> None:
    v = values(prod, "kube-prometheus-stack")
    spec = v["prometheus"]["prometheusSpec"]
    assert spec["scrapeInterval"] == "15s" and spec["retention"] == "7d"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is True
    grafana = v["grafana"]
    assert grafana["image"]["tag"] == prod.catalog.services["grafana"].image.tag == "13.2.0"
    assert grafana["sidecar"]["dashboards"]["enabled"] is True
    assert grafana["sidecar"]["datasources"]["uid"] == "prometheus"
    admin = obj(prod, "Secret", grafana["admin"]["existingSecret"])
    assert admin["metadata"]["namespace"] == prod.settings.monitoring_namespace
    assert admin["stringData"]["admin-password"] == redacted("grafana-admin-password")
    assert "GF_PATHS_PROVISIONING" not in grafana["env"]
    assert v["prometheusOperator"]["admissionWebhooks"]["enabled"] is True  # its hooks run under helm.v3.Release


def test_prod_network_policies(prod: Rendered) -> None:
    time_ingress = obj(prod, "NetworkPolicy", "time")["spec"]["ingress"]
    scrape = next(r for r in time_ingress if "namespaceSelector" in r["from"][0])
    assert scrape["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "mcpstack-monitoring"
    assert scrape["ports"] == [{"protocol": "TCP", "port": 8003}]
    webui = obj(prod, "NetworkPolicy", "open-webui")["spec"]
    assert {"ipBlock": {"cidr": "10.0.0.0/8"}} in [p for r in webui["egress"] for p in r["to"]]
    assert webui["ingress"][-1]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    redis_from = [
        p["podSelector"]["matchLabels"]["mcpstack.io/service"]
        for r in obj(prod, "NetworkPolicy", "redis")["spec"]["ingress"]
        for p in r["from"]
    ]
    assert sorted(redis_from) == ["mcpo", "open-webui", "redis-exporter"]
    assert obj(prod, "NetworkPolicy", "sandbox")["spec"]["egress"] == []
    assert obj(prod, "Deployment", "sandbox")["spec"]["template"]["spec"]["runtimeClassName"] == "gvisor"


def test_no_secret_value_leaves_a_secret(prod: Rendered) -> None:
    for resource in prod.resources:
        text = json.dumps(resource.body)
        if resource.is_kubernetes_object and resource.body["kind"] == "Secret":
            assert "stringData" in resource.secret_paths
            continue
        assert "<secret:" not in text, f"{resource.type} {resource.name}"
    assert "<secret:" not in json.dumps(prod.stack_outputs)


TEST_KEYS = {"e2e": "gateway-key-e2e", "loadtest": "gateway-key-loadtest"}


def _gateway_key_files(rendered: Rendered) -> set[str]:
    mounts = obj(rendered, "Deployment", "mcpo")["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    return {m["mountPath"] for m in mounts if m["mountPath"].startswith("/run/secrets/gateway-keys/")}


def test_prod_neither_creates_nor_mounts_the_test_keys_it_refuses(prod: Rendered, dev: Rendered) -> None:
    for client, secret in TEST_KEYS.items():
        assert not prod.catalog.services["mcpo"].gateway.clients[client].accepted_in("prod")
        assert secret not in secret_data(prod, "mcpo-secrets")
        assert f"/run/secrets/gateway-keys/{client}" not in _gateway_key_files(prod)
        assert secret in secret_data(dev, "mcpo-secrets")
        assert f"/run/secrets/gateway-keys/{client}" in _gateway_key_files(dev)
    assert _gateway_key_files(prod) == {"/run/secrets/gateway-keys/open-webui"}
    assert secret_data(prod, "mcpo-secrets")["gateway-key-open-webui"] == redacted("gateway-key-open-webui")
    gateway = json.loads(secret_data(prod, "mcpo-generated")["gateway-config"])["gateway"]
    assert set(gateway["clients"]) == {"open-webui"}


def test_an_overlay_that_accepts_a_test_key_in_prod_gets_its_secret_and_mount(edit_config: EditConfig) -> None:
    config = edit_config(
        "  mcpo:\n    replicas: 2\n",
        "  mcpo:\n    replicas: 2\n    gateway: {clients: {loadtest: {environments: [dev, prod]}}}\n",
        "environments/prod.yaml",
    )
    rendered = render_with(config, "prod")
    assert "gateway-key-loadtest" in secret_data(rendered, "mcpo-secrets")
    assert "gateway-key-e2e" not in secret_data(rendered, "mcpo-secrets")
    assert _gateway_key_files(rendered) == {
        "/run/secrets/gateway-keys/open-webui",
        "/run/secrets/gateway-keys/loadtest",
    }


def test_dashboards_and_rule_files_reach_the_monitoring_stack(config_copy: Path) -> None:
    set_catalog_line(config_copy, "      dashboards:", "      dashboards: [test-dashboards/gateway.json]")
    config = set_catalog_line(config_copy, "      rule_files:", "      rule_files: [test-alerts/gateway.yaml]")
    (config / "test-dashboards").mkdir()
    (config / "test-dashboards" / "gateway.json").write_text('{"uid": "gateway"}')
    (config / "test-alerts").mkdir()
    rules = {"groups": [{"name": "gateway", "rules": [{"alert": "GatewayDown", "expr": "up == 0", "for": "1m"}]}]}
    (config / "test-alerts" / "gateway.yaml").write_text(json.dumps(rules))
    rendered = render_with(config, "prod")
    dashboard = obj(rendered, "ConfigMap", "dashboard-gateway")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["namespace"] == rendered.settings.monitoring_namespace
    assert json.loads(dashboard["data"]["gateway.json"]) == {"uid": "gateway"}
    rule = obj(rendered, "PrometheusRule", "rules-gateway")
    assert rule["spec"] == rules
    assert rule["metadata"]["labels"]["release"] == charts.KUBE_PROMETHEUS_STACK.release


def test_a_cpu_only_cluster_can_turn_the_gpu_off(config_copy: Path) -> None:
    rendered = render_with(config_copy, "prod", ollamaGpus=0)
    assert values(rendered, "ollama")["ollama"]["gpu"]["enabled"] is False


def test_every_resource_has_a_unique_urn(dev: Rendered, prod: Rendered) -> None:
    for rendered in (dev, prod):
        urns = [r.urn for r in rendered.resources]
        assert len(urns) == len(set(urns))


def test_the_sandbox_under_gvisor_requires_no_namespace_layer_gvisor_lacks(prod: Rendered) -> None:
    """docs/sandbox.md: bubblewrap cannot make namespaces inside gVisor; required, they stop the sandbox."""
    sandbox = obj(prod, "Deployment", "sandbox")["spec"]["template"]["spec"]
    assert sandbox["runtimeClassName"] == "gvisor"
    layers = env(sandbox["containers"][0]["env"])["SANDBOX_REQUIRED_LAYERS"]["value"].split(",")
    assert "seccomp" in layers
    assert not [layer for layer in layers if layer.endswith("_namespace")]


def _by_name(rendered: Rendered, type_suffix: str, name: str):
    return next(r for r in rendered.resources if r.type.endswith(type_suffix) and r.name == name)


def test_open_webui_migrations_run_once_in_a_job_the_release_waits_for(prod: Rendered) -> None:
    job_name = charts.migrations_name("open-webui")
    job = obj(prod, "Job", job_name)
    pod = job["spec"]["template"]["spec"]
    (migrate,) = pod["containers"]
    assert pod["restartPolicy"] == "Never"
    assert migrate["command"] == ["python", "-c", "import open_webui.config"]  # config.py migrates at import
    job_env = env(migrate["env"])
    assert job_env["ENABLE_DB_MIGRATIONS"] == {"name": "ENABLE_DB_MIGRATIONS", "value": "true"}
    assert "secretKeyRef" in job_env["DATABASE_URL"]["valueFrom"]  # the replicas' database
    assert migrate["image"] == "{repository}:{tag}".format(**values(prod, "open-webui")["image"])
    # the replicas: migrations off, and Helm starts them only after the Job completed
    assert env(values(prod, "open-webui")["extraEnvVars"])["ENABLE_DB_MIGRATIONS"]["value"] == "false"
    job_resource = _by_name(prod, ":Job", job_name)
    assert job_resource.urn in release(prod, "open-webui").dependencies
    # the Job reaches the database (and DNS) through its own policy, created before it
    policy = obj(prod, "NetworkPolicy", job_name)
    assert selector_matches(policy["spec"]["podSelector"], job["spec"]["template"]["metadata"]["labels"])
    cidrs = [p["ipBlock"]["cidr"] for rule in policy["spec"]["egress"] for p in rule["to"] if "ipBlock" in p]
    assert cidrs == [prod.settings.database_cidr]
    assert _by_name(prod, ":NetworkPolicy", f"netpol-{job_name}").urn in job_resource.dependencies


def test_every_kubernetes_resource_uses_the_stack_s_explicit_provider(dev: Rendered, prod: Rendered) -> None:
    for rendered, context in ((dev, "kind-mcpstack"), (prod, "mcpstack-prod")):
        (provider,) = [r for r in rendered.resources if r.is_provider]
        assert provider.type == "pulumi:providers:kubernetes"
        assert provider.body["context"] == context
        assert provider.body["namespace"] == rendered.settings.namespace
        for resource in rendered.resources:
            if resource.custom and not resource.is_provider:
                assert resource.provider.startswith(f"{provider.urn}::"), f"{resource.type} {resource.name}"


def test_prod_data_survives_destroy_and_a_changed_namespace(prod: Rendered, dev: Rendered) -> None:
    namespace = prod.resource("Namespace", "mcpstack")
    assert namespace.protect
    claim = prod.resource("PersistentVolumeClaim", "open-webui-data")
    assert claim.protect and claim.retain_on_delete
    assert claim.body["spec"]["accessModes"] == ["ReadWriteMany"]
    assert values(prod, "open-webui")["persistence"]["existingClaim"] == "open-webui-data"
    assert claim.urn in release(prod, "open-webui").dependencies
    database_secret = next(
        r
        for r in prod.resources
        if r.is_kubernetes_object and r.body["kind"] == "Secret" and "database-url" in (r.body.get("stringData") or {})
    )
    assert database_secret.retain_on_delete  # kept in the cluster when Pulumi deletes or replaces it
    assert not [r for r in dev.resources if r.protect]  # dev: mcpstack:protect false, a throwaway cluster


def test_external_urls_are_stack_outputs_from_the_ingress_settings(prod: Rendered, dev: Rendered) -> None:
    assert prod.stack_outputs["external"] == {"open-webui": "https://chat.example.com/"}
    assert dev.stack_outputs["external"] == {}
    assert prod.stack_outputs["cluster"] == {"context": "mcpstack-prod", "namespace": "mcpstack"}


def test_grafana_recreates_its_pod_on_its_one_claim(prod: Rendered) -> None:
    grafana = values(prod, "kube-prometheus-stack")["grafana"]
    assert grafana["persistence"]["enabled"]
    assert grafana["deploymentStrategy"] == {"type": "Recreate"}
