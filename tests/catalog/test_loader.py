"""The catalog loader: the real catalog is valid, and every kind of bad input is reported with the
file, line, key path and what is wrong, one message per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import CatalogError, Problem, environments, load_catalog
from mcpstack.catalog.graph import dependency_graph
from mcpstack.catalog.models import GatewayService, McpServerService
from tests.conftest import EditConfig


def problems(config: Path, env: str = "dev") -> list[Problem]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(config, env)
    return caught.value.problems


def only_problem(config: Path, env: str = "dev") -> Problem:
    found = problems(config, env)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def line_of(config: Path, text: str, file: str = "catalog.yaml") -> int:
    lines = (config / file).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_real_catalog_is_valid_in_every_environment(env: str) -> None:
    catalog = load_catalog(DEFAULT_CONFIG_DIR, env)
    assert catalog.environment == env
    assert isinstance(catalog.services["time"], McpServerService)
    assert isinstance(catalog.services["mcpo"], GatewayService)


def test_environments_are_the_overlay_files() -> None:
    assert environments(DEFAULT_CONFIG_DIR) == ["dev", "prod"]


def test_overlay_values_replace_catalog_values(config_copy: Path) -> None:
    assert load_catalog(config_copy, "prod").services["mcpo"].replicas == 2
    assert load_catalog(config_copy, "dev").services["mcpo"].replicas == 1


def test_overlay_mappings_merge_and_null_removes_a_key(edit_config: EditConfig) -> None:
    config = edit_config(
        "  mcpo:\n    replicas: 2\n",
        "  mcpo:\n    replicas: 2\n    env: {EXTRA: x}\n    health: null\n",
        "environments/prod.yaml",
    )
    mcpo = load_catalog(config, "prod").services["mcpo"]
    assert mcpo.env == {"MCP_ALLOWED_HOSTS": "mcpo:8080", "EXTRA": "x"}  # the overlay's mapping is merged in
    assert mcpo.health is None
    assert mcpo.image.tag == "0.0.20-mcpstack.2"  # untouched keys survive the merge


def test_yaml_syntax_error_names_file_line_and_column(edit_config: EditConfig) -> None:
    config = edit_config("      - {name: http, port: 8003}", "      - {name: http, port: 8003")
    problem = only_problem(config)
    assert problem.location is not None
    assert problem.location.file.endswith("catalog.yaml")
    assert problem.location.line > line_of(config, "{name: http, port: 8003")
    assert "YAML syntax error" in problem.message


def test_unknown_key_suggests_the_closest_valid_key(edit_config: EditConfig) -> None:
    config = edit_config("    kind: prometheus\n", "    kind: prometheus\n    imgae: x\n")
    problem = only_problem(config)
    assert problem.path == "services.prometheus.imgae"
    assert "unknown key 'imgae'" in problem.message
    assert "did you mean 'image'" in problem.message
    assert problem.location is not None
    assert problem.location.line == line_of(config, "imgae: x")


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(edit_config: EditConfig) -> None:
    config = edit_config("      - {name: http, port: 8003}", "      - {name: http, port: 8003, zzz: 1}")
    problem = only_problem(config)
    assert problem.path == "services.time.ports[0].zzz"
    assert "allowed keys: name, port" in problem.message


def test_wrong_type_names_the_key_path_and_the_value(edit_config: EditConfig) -> None:
    config = edit_config("      - {name: http, port: 8001}", "      - {name: http, port: eighty}")
    problem = only_problem(config)
    assert problem.path == "services.sandbox.ports[0].port"
    assert "valid integer" in problem.message
    assert "'eighty'" in problem.message
    assert problem.location is not None
    assert problem.location.line == line_of(config, "port: eighty")


def test_a_scalar_where_a_list_belongs_is_a_type_error(edit_config: EditConfig) -> None:
    config = edit_config("    ports:\n      - {name: http, port: 8003}\n", "    ports: 8003\n")
    problem = only_problem(config)
    assert problem.path == "services.time.ports"
    assert "valid list" in problem.message


def test_duplicate_service_is_reported_at_the_second_definition(edit_config: EditConfig) -> None:
    config = edit_config(
        "  prometheus:\n    description:", "  time:\n    kind: mcp-server\n  prometheus:\n    description:"
    )
    problem = only_problem(config)
    assert problem.path == "services.time"
    assert "duplicate key 'time'" in problem.message
    assert f"first defined at line {line_of(config, '  time:')}" in problem.message


def test_duplicate_container_port_within_a_service(edit_config: EditConfig) -> None:
    config = edit_config(
        "      - {name: http, port: 8003}", "      - {name: http, port: 8003}\n      - {name: admin, port: 8003}"
    )
    problem = only_problem(config)
    assert problem.path == "services.time.ports[1]"
    assert "duplicate port number 8003" in problem.message


def test_published_host_port_clash_names_both_entries(edit_config: EditConfig) -> None:
    config = edit_config("    prometheus: 9090\n", "    prometheus: 8080\n", "environments/dev.yaml")
    problem = only_problem(config)
    assert problem.path == "local.publish.prometheus"
    assert "host port 8080 clashes with local.publish.mcpo" in problem.message
    assert problem.location is not None and problem.location.file.endswith("environments/dev.yaml")


def test_reference_to_a_missing_service_lists_the_known_ones(edit_config: EditConfig) -> None:
    config = edit_config(
        "          service: sandbox\n          transport: streamable-http\n",
        "          service: sandbx\n          transport: streamable-http\n",
    )
    problem = only_problem(config)
    assert problem.path == "services.mcpo.gateway.routes.sandbox.service"
    assert "unknown service 'sandbx' (known: " in problem.message
    assert "sandbox, time)" in problem.message


def test_route_to_a_transport_the_server_does_not_offer(edit_config: EditConfig) -> None:
    config = edit_config(
        "          service: sandbox\n          transport: streamable-http\n",
        "          service: sandbox\n          transport: sse\n",
    )
    problem = only_problem(config)
    assert problem.path == "services.mcpo.gateway.routes.sandbox.transport"
    assert "does not offer 'sse'" in problem.message


def test_route_to_a_service_that_is_not_an_mcp_server(edit_config: EditConfig) -> None:
    config = edit_config(
        "          service: sandbox\n          transport: streamable-http\n",
        "          service: prometheus\n",
    )
    assert "is a prometheus, not an mcp-server" in only_problem(config).message


def test_reference_to_a_missing_secret(edit_config: EditConfig) -> None:
    config = edit_config("- {secret: gateway-key-loadtest, file:", "- {secret: gateway-key-lodtest, file:")
    found = {p.path: p.message for p in problems(config)}
    assert "unknown secret 'gateway-key-lodtest'" in found["services.mcpo.secrets[2].secret"]
    # the loadtest client's key is now mounted nowhere: reported on the client
    assert "is not mounted as a file" in found["services.mcpo.gateway.clients.loadtest.secret"]


def test_secret_values_are_never_accepted_in_the_catalog(edit_config: EditConfig) -> None:
    config = edit_config(
        "Bearer key of the e2e suites and `mcpstack smoke`\n    generate: true\n",
        "Bearer key of the e2e suites and `mcpstack smoke`\n    generate: true\n    value: hunter2\n",
    )
    problem = only_problem(config)
    assert problem.path == "secrets.gateway-key-e2e.value"
    assert "unknown key" in problem.message
    assert "hunter2" not in str(problem)


def test_unknown_generator(edit_config: EditConfig) -> None:
    config = edit_config("generator: prometheus-config", "generator: prometheus-conf")
    assert "unknown generator 'prometheus-conf'" in only_problem(config).message


def test_missing_dependency_and_dependency_cycle(edit_config: EditConfig) -> None:
    edit_config("    kind: prometheus\n", "    kind: prometheus\n    depends_on: [mcpo, grafna]\n")
    config = edit_config(
        "    kind: mcp-server\n    image:\n      repository: mcpstack/time",
        "    kind: mcp-server\n    depends_on: [prometheus]\n    image:\n      repository: mcpstack/time",
    )
    messages = {p.path: p.message for p in problems(config)}
    assert "unknown service 'grafna'" in messages["services.prometheus.depends_on[1]"]
    assert any("dependency cycle" in m and "mcpo" in m and "time" in m for m in messages.values())


def test_unknown_and_missing_kind(edit_config: EditConfig) -> None:
    edit_config("    kind: prometheus\n", "    kind: prometeus\n")
    config = edit_config("    kind: gateway\n", "")
    found = {p.path: p.message for p in problems(config)}
    assert "unknown kind 'prometeus'" in found["services.prometheus.kind"]
    assert found["services.mcpo.kind"] == "required key is missing"


def test_kind_specific_section_is_required(edit_config: EditConfig) -> None:
    config = edit_config("    mcp:\n      transports:\n        streamable-http: /mcp\n        sse: /sse\n", "")
    problem = only_problem(config)
    assert problem.path == "services.time.mcp"
    assert problem.message == "required key is missing"


def test_unpinned_image_tag_is_refused(edit_config: EditConfig) -> None:
    config = edit_config('tag: "2.42.0"', "tag: latest")
    problem = only_problem(config)
    assert problem.path == "services.prometheus.image.tag"
    assert "not pinned" in problem.message


def test_service_names_must_be_dns_labels(edit_config: EditConfig) -> None:
    config = edit_config("  prometheus:\n    description:", "  Prometheus_2:\n    description:")
    found = problems(config)
    assert any(p.path == "services.Prometheus_2" and "DNS label" in p.message for p in found)


def test_every_problem_is_reported_not_just_the_first(edit_config: EditConfig) -> None:
    edit_config("      - {name: http, port: 8001}", "      - {name: http, port: eighty}")
    edit_config('tag: "2.42.0"', "tag: latest")
    config = edit_config("    kind: prometheus\n", "    kind: prometheus\n    imgae: x\n")
    paths = {p.path for p in problems(config)}
    assert {"services.sandbox.ports[0].port", "services.prometheus.image.tag", "services.prometheus.imgae"} <= paths


def test_problems_in_an_overlay_name_the_overlay_file(edit_config: EditConfig) -> None:
    config = edit_config("  time:\n    replicas: 2\n", "  time:\n    replicas: many\n", "environments/prod.yaml")
    problem = only_problem(config, "prod")
    assert problem.path == "services.time.replicas"
    assert problem.location is not None
    assert problem.location.file.endswith("environments/prod.yaml")
    assert problem.location.line == line_of(config, "replicas: many", "environments/prod.yaml")


def test_unknown_environment_lists_the_available_ones(config_copy: Path) -> None:
    problem = only_problem(config_copy, "staging")
    assert "unknown environment 'staging' (available: dev, prod)" in problem.message


def test_a_file_that_is_not_a_mapping(config_copy: Path) -> None:
    (config_copy / "environments" / "dev.yaml").write_text("- just\n- a list\n")
    assert "must contain a mapping" in only_problem(config_copy).message


def test_yaml_merge_keys_and_anchors_are_supported(edit_config: EditConfig) -> None:
    config = edit_config(
        '      requests: {cpu: 100m, memory: 256Mi}\n      limits: {cpu: "1", memory: 1Gi}',
        "      requests: &small {cpu: 100m, memory: 256Mi}\n      limits: *small",
    )
    assert load_catalog(config, "dev").services["prometheus"].resources.limits.memory == "256Mi"


def test_gateway_client_tenant_must_exist(edit_config: EditConfig) -> None:
    config = edit_config(
        "e2e: {secret: gateway-key-e2e, tenant: platform,", "e2e: {secret: gateway-key-e2e, tenant: platfrom,"
    )
    problem = only_problem(config)
    assert problem.path == "services.mcpo.gateway.clients.e2e.tenant"
    assert "unknown tenant 'platfrom' (known: guests, platform, staff, tool-catalog)" in problem.message


def test_tenant_tools_must_name_gateway_routes(edit_config: EditConfig) -> None:
    config = edit_config("tools: {time: [get_current_time, convert_time]}", "tools: {tyme: [get_current_time]}")
    problem = only_problem(config)
    assert problem.path == "tenancy.tenants.guests.tools.tyme"
    assert "unknown gateway route 'tyme'" in problem.message


def test_default_tenant_must_exist(edit_config: EditConfig) -> None:
    config = edit_config("  default_tenant: null", "  default_tenant: visitors")
    assert "unknown tenant 'visitors'" in only_problem(config).message


def test_tenant_credentials_need_a_service_route_and_a_declared_secret(edit_config: EditConfig) -> None:
    config = edit_config(
        "      tools: {time: [get_current_time, convert_time]}",
        "      tools: {time: [get_current_time, convert_time]}\n"
        "      credentials:\n        time-reference: {Authorization: gateway-key-e2e}\n"
        "        time: {Authorization: github-token-guests}",
    )
    found = {p.path: p.message for p in problems(config)}
    assert "not to stdio routes" in found["tenancy.tenants.guests.credentials.time-reference"]
    assert "unknown secret 'github-token-guests'" in found["tenancy.tenants.guests.credentials.time.Authorization"]


def test_tenancy_keeps_the_catalog_order(config_copy: Path) -> None:
    # the first matching tenant wins, so the order written in the catalog is significant
    assert list(load_catalog(config_copy, "dev").tenancy.tenants) == ["platform", "staff", "tool-catalog", "guests"]


def test_rate_limit_redis_must_be_a_service(edit_config: EditConfig) -> None:
    config = edit_config("        redis: redis  # buckets shared by every gateway replica", "        redis: redsi")
    problem = only_problem(config, "prod")
    assert problem.path == "services.mcpo.gateway.rate_limits.redis"
    assert "unknown service 'redsi'" in problem.message


def test_the_gateway_depends_on_its_redis(config_copy: Path) -> None:
    assert "redis" in dependency_graph(load_catalog(config_copy, "prod"))["mcpo"]
    assert "redis" not in dependency_graph(load_catalog(config_copy, "dev"))["mcpo"]


def test_a_misspelt_service_in_an_overlay_is_an_unknown_service_with_a_suggestion(edit_config: EditConfig) -> None:
    config = edit_config("  time:\n    replicas: 2\n", "  tyme:\n    replicas: 2\n", "environments/prod.yaml")
    problem = only_problem(config, "prod")
    assert problem.path == "services.tyme"
    assert problem.message.startswith("unknown service 'tyme' (did you mean 'time'?)")
    assert problem.location is not None and problem.location.file.endswith("prod.yaml")


def test_a_virtual_server_must_name_gateway_routes_and_not_take_a_routes_name(edit_config: EditConfig) -> None:
    config = edit_config("          routes: [time, sandbox, github]", "          routes: [time, sandbx, time]")
    found = {p.path: p for p in problems(config)}
    unknown = found["services.mcpo.gateway.virtual_servers.platform.routes[1]"]
    assert "unknown gateway route 'sandbx'" in unknown.message
    assert unknown.location.line == line_of(config, "routes: [time, sandbx, time]")
    assert "listed twice" in found["services.mcpo.gateway.virtual_servers.platform.routes[2]"].message


def test_a_virtual_server_may_not_take_a_routes_name(edit_config: EditConfig) -> None:
    clash = only_problem(
        edit_config(
            "        platform:\n          description: The platform's",
            "        time:\n          description: The platform's",
        )
    )
    assert clash.path == "services.mcpo.gateway.virtual_servers.time"
    assert "both would be /mcp/time" in clash.message


def test_open_webui_may_offer_a_virtual_server_but_nothing_unknown(edit_config: EditConfig) -> None:
    config = edit_config(
        "      gateway_client: open-webui\n", "      gateway_client: open-webui\n      routes: [platform, nowhere]\n"
    )
    problem = only_problem(config)
    assert problem.path == "services.open-webui.open_webui.routes[1]"
    assert "unknown route or virtual server 'nowhere'" in problem.message
