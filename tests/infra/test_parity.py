"""The dev stack runs what the local Docker runtime runs: both render one DeployedService per service
(mcpstack.deployment). For every service the dev stack deploys, the Docker rendering (mcpstack.local.spec)
and the Kubernetes rendering (the dev program under Pulumi's mocks) are each projected back onto the
shared fields, and each projection must equal the DeployedService's, field by field."""

from __future__ import annotations

import copy
from dataclasses import fields, replace
from pathlib import PurePosixPath
from typing import Any

import pytest

from infra.render import Rendered
from mcpstack import DEFAULT_CONFIG_DIR
from mcpstack.catalog import load_catalog
from mcpstack.deployment import DeployedService, Probe, Timing, describe_services, labels
from mcpstack.generate import redacted
from mcpstack.local.containers import container_labels, security_options
from mcpstack.local.spec import ContainerSpec, container_spec

CATALOG = load_catalog(DEFAULT_CONFIG_DIR, "dev")  # what the dev stack deploys (stacks/Pulumi.dev.yaml)
DEPLOYED = {n: s for n, s in describe_services(CATALOG).items() if not CATALOG.services[n].local_only}

# What a platform has no place for; every other shared field must come back from its rendering.
NOT_IN_DOCKER = {
    "content": "rendered by `up` with the stack's secret values, from the same generator",
    "claim_sizes": "a Docker volume has no size",
    "requests": "Docker enforces limits only",
    "startup": "`up` waits for readiness, within its own deadline",
    "probe_timings": "`up` polls; the engine runs no probes",
    "replicas": "one container per service",
}
NOT_IN_KUBERNETES = {
    "pids_limit": "no pod-spec field: the kubelet caps processes per pod (podPidsLimit)",
    "depends_on": "pods do not wait for each other; the NetworkPolicies follow the graph (test_dev_stack)",
}
NOT_COMPARED = {"kind": "picks the Pulumi component", "built_here": "only adds a registry prefix (none in dev)"}


def shared(service: DeployedService) -> dict[str, Any]:
    """The deployed service in the terms both projections use."""
    security, resources, health = service.security, service.resources, service.health
    return {
        "name": service.name,
        "image": service.image,
        "command": service.command,
        "env": service.env,
        "secrets": {ref.target: ref.secret for ref in service.secrets},
        "generated": {target: g.generator for target, g in (service.files | service.generated_env).items()},
        "content": {g.generator: (g.redacted, g.secret) for g in service.generated.values()},
        "ports": {p.name: p.port for p in service.ports},
        "volumes": {v.path: "persistent" if v.persistent else f"scratch:{v.size}" for v in service.volumes},
        "claim_sizes": {v.path: v.size for v in service.volumes if v.persistent},
        "health": {"live": check(health.live), "ready": check(health.ready)},
        "startup": check(health.live),
        "probe_timings": {
            "startup": timing(health.startup),
            "liveness": timing(health.liveness),
            "readiness": timing(health.readiness),
        },
        "limits": {k: v for k, v in (("cpu", resources.cpu_limit), ("memory", resources.memory_limit)) if v},
        "requests": {k: v for k, v in (("cpu", resources.cpu_request), ("memory", resources.memory_request)) if v},
        "pids_limit": resources.pids_limit,
        "security": {
            "user": (security.user, security.group),
            "read_only_root": security.read_only_root,
            "drop_capabilities": security.drop_capabilities,
            "no_new_privileges": security.no_new_privileges,
            "seccomp": PurePosixPath(security.seccomp_profile).name if security.seccomp_profile else None,
            "apparmor": security.apparmor_profile,
            "runtime": security.runtime,
            "sysctls": security.sysctls,
        },
        "depends_on": service.depends_on,
        "replicas": service.replicas,
        "labels": service.labels,
    }


def check(probe: Probe | None) -> tuple[str | None, str] | None:
    return (probe.path, probe.port) if probe else None


def timing(value: Timing) -> tuple[int, int | None, int]:
    return value.period_seconds, value.timeout_seconds, value.failure_threshold


def without(view: dict[str, Any], omitted: dict[str, str]) -> dict[str, Any]:
    return {key: value for key, value in view.items() if key not in omitted}


def docker_view(spec: ContainerSpec) -> dict[str, Any]:
    """A container spec in the shared terms."""
    uid, _, gid = spec.user.partition(":")
    running = container_labels(spec, stack="parity", environment=CATALOG.environment, fingerprint="-")
    return {
        "name": spec.service,
        "image": spec.image,
        "command": spec.command,
        "env": spec.env,
        "secrets": spec.secret_env | spec.secret_files,
        "generated": spec.generated_env | spec.generated_files,
        "ports": spec.ports,
        "volumes": {path: "persistent" for path in spec.volumes.values()}
        | {path: f"scratch:{spec.tmpfs_size}" for path in spec.tmpfs},
        "health": {"live": spec.health, "ready": spec.ready or spec.health},  # what `up` waits for
        "limits": {k: v for k, v in (("cpu", spec.cpu_limit), ("memory", spec.memory_limit)) if v},
        "pids_limit": spec.pids_limit,
        "security": {
            "user": (int(uid), int(gid)),
            "read_only_root": spec.read_only,
            "drop_capabilities": spec.cap_drop,
            "no_new_privileges": "no-new-privileges:true" in security_options(spec),
            "seccomp": PurePosixPath(spec.seccomp_profile).name if spec.seccomp_profile else None,
            "apparmor": spec.apparmor_profile,
            "runtime": spec.runtime,
            "sysctls": spec.sysctls,
        },
        "depends_on": spec.depends_on,
        "labels": {k: v for k, v in labels.ours(running).items() if k not in (labels.STACK, labels.SPEC_HASH)},
    }


def kubernetes_view(rendered: Rendered, name: str) -> dict[str, Any]:
    """A service's Deployment (with the Secrets, ConfigMaps and claims it reads) in the shared terms."""
    deployment = rendered.find("Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    stored = {
        o["metadata"]["name"]: (o.get("stringData") or o.get("data") or {}, o["kind"] == "Secret")
        for o in rendered.objects()
        if o["kind"] in ("Secret", "ConfigMap")
    }
    view: dict[str, Any] = {"env": {}, "secrets": {}, "generated": {}, "content": {}, "volumes": {}, "claim_sizes": {}}

    def read(target: str, source: str, key: str) -> None:
        data, is_secret = stored[source]
        if key in rendered.catalog.secrets:  # a catalog secret (its placeholder value, under the render)
            view["secrets"][target] = key if data[key] == redacted(key) and is_secret else f"{key}: wrong value"
        else:
            view["generated"][target] = key
            view["content"][key] = (data[key], is_secret)

    for entry in main.get("env", []):
        if "value" in entry:
            view["env"][entry["name"]] = entry["value"]
        else:
            (ref,) = entry["valueFrom"].values()  # secretKeyRef or configMapKeyRef
            read(entry["name"], ref["name"], ref["key"])
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in main.get("volumeMounts", []):
        volume, path = volumes[mount["name"]], mount["mountPath"]
        if mount["name"] == "dashboards":  # grafana.dashboards: provisioned by the stacks only (test_dev_stack)
            continue
        if "secret" in volume or "configMap" in volume:
            read(path, volume.get("secret", {}).get("secretName") or volume["configMap"]["name"], mount["subPath"])
        elif "persistentVolumeClaim" in volume:
            claim = rendered.find("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
            view["volumes"][path] = "persistent"
            view["claim_sizes"][path] = claim["spec"]["resources"]["requests"]["storage"]
        elif volume.get("emptyDir", {}).get("medium") == "Memory":
            view["volumes"][path] = f"scratch:{volume['emptyDir']['sizeLimit']}"
        else:
            view["volumes"][path] = f"unexplained: {volume}"
    security, probes = main["securityContext"], {k: main.get(f"{k}Probe") for k in ("startup", "liveness", "readiness")}
    seccomp = security["seccompProfile"].get("localhostProfile")
    return view | {
        "name": main["name"],
        "image": main["image"],
        "command": tuple(main["command"]) if "command" in main else None,
        "ports": {p["name"]: p["containerPort"] for p in main.get("ports", [])},
        "health": {"live": probe(probes["liveness"]), "ready": probe(probes["readiness"])},
        "startup": probe(probes["startup"]),
        "probe_timings": {
            kind: (found["periodSeconds"], found.get("timeoutSeconds"), found["failureThreshold"])
            for kind, found in probes.items()
            if found
        },
        "limits": main["resources"].get("limits", {}),
        "requests": main["resources"].get("requests", {}),
        "security": {
            "user": (security["runAsUser"], security["runAsGroup"]),
            "read_only_root": security["readOnlyRootFilesystem"],
            "drop_capabilities": tuple(security["capabilities"]["drop"]),
            "no_new_privileges": security["allowPrivilegeEscalation"] is False,
            "seccomp": PurePosixPath(seccomp).name if seccomp else None,
            "apparmor": (security.get("appArmorProfile") or {}).get("localhostProfile"),
            "runtime": pod.get("runtimeClassName"),  # Pulumi.dev.yaml maps no RuntimeClass of its own
            "sysctls": {s["name"]: s["value"] for s in pod["securityContext"].get("sysctls", [])},
        },
        "replicas": deployment["spec"]["replicas"],
        "labels": labels.ours(deployment["spec"]["template"]["metadata"]["labels"]),
    }


def probe(found: dict[str, Any] | None) -> tuple[str | None, str] | None:
    if found is None:
        return None
    if "httpGet" in found:
        return found["httpGet"]["path"], found["httpGet"]["port"]
    return None, found["tcpSocket"]["port"]


def test_every_field_of_a_deployed_service_is_compared_or_says_why_not() -> None:
    under_other_keys = {"security", "resources", "health", "files", "generated_env"}
    model_fields = {f.name for f in fields(DeployedService)}
    assert model_fields - set(shared(DEPLOYED["time"])) - under_other_keys == set(NOT_COMPARED)
    assert set(NOT_IN_DOCKER) | set(NOT_IN_KUBERNETES) <= set(shared(DEPLOYED["time"]))


def test_the_dev_stack_deploys_the_deployed_services_of_its_catalog(dev: Rendered) -> None:
    assert dev.catalog.environment == "dev"
    assert dev.settings.config_dir == DEFAULT_CONFIG_DIR
    assert {o["metadata"]["name"] for o in dev.objects() if o["kind"] == "Deployment"} == set(DEPLOYED)
    assert {n: s for n, s in describe_services(dev.catalog).items() if n in DEPLOYED} == DEPLOYED


@pytest.mark.parametrize("service", sorted(DEPLOYED))
def test_docker_and_kubernetes_render_the_same_deployed_service(dev: Rendered, service: str) -> None:
    deployed = DEPLOYED[service]
    expected = shared(deployed)
    assert docker_view(container_spec(deployed)) == without(expected, NOT_IN_DOCKER)
    assert kubernetes_view(dev, service) == without(expected, NOT_IN_KUBERNETES)


def differing(view: dict[str, Any], expected: dict[str, Any]) -> set[str]:
    return {key for key in expected.keys() | view.keys() if view.get(key) != expected.get(key)}


def main_container(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["spec"]["containers"][0]


@pytest.mark.parametrize(
    ("fields_seen", "change"),
    [
        ({"env"}, lambda pod: main_container(pod)["env"][0].update(value="changed")),
        ({"security"}, lambda pod: main_container(pod)["securityContext"]["capabilities"].update(drop=[])),
        ({"health", "probe_timings"}, lambda pod: main_container(pod).pop("readinessProbe")),
        ({"labels"}, lambda pod: pod["metadata"]["labels"].update({labels.ENVIRONMENT: "prod"})),
        # the time server's mounts: its scratch volume and its token file (a secret)
        ({"volumes", "secrets"}, lambda pod: main_container(pod)["volumeMounts"].clear()),
    ],
)
def test_the_parity_check_notices_a_kubernetes_rendering_that_differs(
    dev: Rendered, fields_seen: set[str], change: Any
) -> None:
    rendered = copy.deepcopy(dev)
    change(rendered.find("Deployment", "time")["spec"]["template"])
    expected = without(shared(DEPLOYED["time"]), NOT_IN_KUBERNETES)
    assert differing(kubernetes_view(rendered, "time"), expected) == fields_seen


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("image", {"image": "mcpstack/time:other"}),
        ("secrets", {"secret_files": {}}),
        ("security", {"cap_drop": ()}),
        ("security", {"no_new_privileges": False}),
        ("volumes", {"tmpfs": ()}),
        ("labels", {"labels": {}}),
    ],
)
def test_the_parity_check_notices_a_docker_rendering_that_differs(field: str, change: dict[str, Any]) -> None:
    deployed = DEPLOYED["mcpo"]
    spec = replace(container_spec(deployed), **change)
    assert differing(docker_view(spec), without(shared(deployed), NOT_IN_DOCKER)) == {field}
