"""The dev stack runs what the local Docker runtime runs: service by service, the Kubernetes objects
the dev program registers (under Pulumi's mocks) against mcpstack.local.spec.container_specs for the
deployed catalog (the catalog itself: no local substitutions, no local_only stand-ins)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.render import Rendered
from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.catalog.models import Catalog
from mcpstack.generate import GENERATORS, redacted
from mcpstack.local.spec import ContainerSpec, container_specs


def deployed_catalog(catalog: Catalog) -> Catalog:
    return catalog.model_copy(update={"services": {n: s for n, s in catalog.services.items() if not s.local_only}})


# The catalog the dev stack deploys (stacks/Pulumi.dev.yaml: environment dev, configDir ../config)
SPECS = container_specs(deployed_catalog(load_catalog(DEFAULT_CONFIG_DIR, "dev")))


def kubernetes_view(rendered: Rendered, name: str) -> dict[str, Any]:
    """The dev Deployment of one service, in ContainerSpec's terms."""
    deployment = rendered.find("Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    secrets = {o["metadata"]["name"]: o.get("stringData", {}) for o in rendered.objects() if o["kind"] == "Secret"}
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in rendered.objects() if o["kind"] == "ConfigMap"}
    claims = {o["metadata"]["name"]: o for o in rendered.objects() if o["kind"] == "PersistentVolumeClaim"}
    catalog = rendered.catalog

    view: dict[str, Any] = {
        "image": main["image"],
        "command": tuple(main["command"]) if "command" in main else None,
        "ports": {p["name"]: p["containerPort"] for p in main["ports"]},
        "env": {},
        "secret_env": {},
        "generated_env": {},
        "secret_files": {},
        "generated_files": {},
        "volumes": {},
        "tmpfs": [],
        "tmpfs_sizes": set(),
        "dashboards": [],
        "unexplained_mounts": [],
    }
    for entry in main.get("env", []):
        if "value" in entry:
            view["env"][entry["name"]] = entry["value"]
            continue
        source = entry["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            value = secrets[ref["name"]][ref["key"]]
            if ref["key"] in catalog.secrets:
                assert value == redacted(ref["key"]), f"{name}: {entry['name']} is not the catalog secret's value"
                view["secret_env"][entry["name"]] = ref["key"]
            else:
                assert GENERATORS[ref["key"]].secret
                assert value == GENERATORS[ref["key"]].render(catalog, name, redacted)
                view["generated_env"][entry["name"]] = ref["key"]
        else:
            ref = source["configMapKeyRef"]
            assert not GENERATORS[ref["key"]].secret
            assert config_maps[ref["name"]][ref["key"]] == GENERATORS[ref["key"]].render(catalog, name, redacted)
            view["generated_env"][entry["name"]] = ref["key"]
    for mount in main.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        path, key = mount["mountPath"], mount.get("subPath")
        if "secret" in volume:
            data = secrets[volume["secret"]["secretName"]]
            if key in catalog.secrets:
                assert data[key] == redacted(key)
                view["secret_files"][path] = key
            else:
                assert GENERATORS[key].secret, f"{name}: {key} is not a secret generator"
                assert data[key] == GENERATORS[key].render(catalog, name, redacted)
                view["generated_files"][path] = key
        elif "configMap" in volume and key in GENERATORS:
            assert not GENERATORS[key].secret, f"{name}: secret generator {key} mounted from a ConfigMap"
            assert config_maps[volume["configMap"]["name"]][key] == GENERATORS[key].render(catalog, name, redacted)
            view["generated_files"][path] = key
        elif "persistentVolumeClaim" in volume:
            catalog_volume = mount["name"].removeprefix("data-")
            claim = claims[volume["persistentVolumeClaim"]["claimName"]]
            size = next(v.size for v in catalog.services[name].volumes if v.name == catalog_volume)
            assert claim["spec"]["resources"]["requests"]["storage"] == size
            view["volumes"][catalog_volume] = path
        elif mount["name"] == "dashboards" and catalog.services[name].kind == "grafana":
            # the catalog's grafana.dashboards: provisioned by the stacks (the local runtime runs no Grafana)
            view["dashboards"].append(path)
        elif volume.get("emptyDir", {}).get("medium") == "Memory":
            view["tmpfs"].append(path)
            view["tmpfs_sizes"].add(volume["emptyDir"]["sizeLimit"])
        else:
            view["unexplained_mounts"].append(path)
    security, pod_security = main["securityContext"], pod["securityContext"]
    view["user"] = f"{security['runAsUser']}:{security['runAsGroup']}"
    view["read_only"] = security["readOnlyRootFilesystem"]
    view["limits"] = main["resources"].get("limits", {})
    view["requests"] = main["resources"].get("requests", {})
    view["sysctls"] = {s["name"]: s["value"] for s in pod_security.get("sysctls", [])}
    seccomp = security.get("seccompProfile") or pod_security.get("seccompProfile") or {}
    view["seccomp_profile"] = seccomp.get("localhostProfile")
    view["apparmor_profile"] = (security.get("appArmorProfile") or {}).get("localhostProfile")
    view["runtime_class"] = pod.get("runtimeClassName")
    view["liveness"] = probe(main.get("livenessProbe"))
    view["readiness"] = probe(main.get("readinessProbe"))
    return view


def probe(found: dict[str, Any] | None) -> tuple[str | None, str] | None:
    if found is None:
        return None
    if "httpGet" in found:
        return found["httpGet"]["path"], found["httpGet"]["port"]
    return None, found["tcpSocket"]["port"]


def test_the_dev_stack_deploys_exactly_the_services_the_local_runtime_would_for_the_catalog(dev: Rendered) -> None:
    assert dev.catalog.environment == "dev"
    assert dev.settings.config_dir == DEFAULT_CONFIG_DIR
    deployments = {o["metadata"]["name"] for o in dev.objects() if o["kind"] == "Deployment"}
    assert deployments == set(SPECS)


@pytest.mark.parametrize("service", sorted(SPECS))
def test_service_parity_with_the_local_docker_runtime(dev: Rendered, service: str) -> None:
    spec: ContainerSpec = SPECS[service]
    view = kubernetes_view(dev, service)
    catalog_service = dev.catalog.services[service]
    assert view["image"] == spec.image
    assert view["command"] == spec.command
    assert view["ports"] == spec.ports
    assert view["env"] == spec.env
    assert view["secret_env"] == spec.secret_env
    assert view["generated_env"] == spec.generated_env
    assert view["secret_files"] == spec.secret_files
    assert view["generated_files"] == spec.generated_files
    assert view["volumes"] == spec.volumes
    assert sorted(view["tmpfs"]) == sorted(spec.tmpfs)
    assert view["tmpfs_sizes"] <= {spec.tmpfs_size}
    assert view["unexplained_mounts"] == []
    dashboards = getattr(getattr(catalog_service, "grafana", None), "dashboards", [])
    assert bool(view["dashboards"]) == bool(dashboards)
    assert view["user"] == spec.user
    assert view["read_only"] == spec.read_only
    assert view["limits"].get("memory") == spec.memory_limit
    assert view["limits"].get("cpu") == spec.cpu_limit
    assert view["requests"] == {k: v for k, v in catalog_service.resources.requests.model_dump().items() if v}
    assert view["sysctls"] == spec.sysctls
    # the catalog's own seccomp profile: the same file, installed on the nodes as a Localhost profile
    assert view["seccomp_profile"] == (f"mcpstack/{Path(spec.seccomp_profile).name}" if spec.seccomp_profile else None)
    assert view["apparmor_profile"] == spec.apparmor_profile
    assert view["runtime_class"] == spec.runtime  # Pulumi.dev.yaml maps no RuntimeClass of its own
    # spec.pids_limit has no pod-spec field: Kubernetes caps processes per pod on the kubelet (podPidsLimit)
    assert view["liveness"] == spec.health
    assert view["readiness"] == (spec.ready or spec.health)


def test_the_parity_check_notices_a_difference(dev: Rendered) -> None:
    """The comparison above is not vacuous: a changed env value in the Deployment is seen."""
    import copy

    rendered = copy.deepcopy(dev)
    time = rendered.find("Deployment", "time")["spec"]["template"]["spec"]["containers"][0]
    time["env"][0]["value"] = "changed"
    assert kubernetes_view(rendered, "time")["env"] != SPECS["time"].env
