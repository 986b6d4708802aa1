"""The namespace (Pod Security "restricted", default deny) and the NetworkPolicies between services."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra import manifests
from infra.components.context import Deploy
from infra.network import Topology, default_deny, network_policies

POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
}


class AppNamespace(pulumi.ComponentResource):
    """A namespace whose pods must meet Pod Security "restricted", starting from default deny."""

    name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        environment: str,
        restricted: bool = True,
        deny_by_default: bool = True,
        protect: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`protect`: `pulumi destroy`, or a changed name, must not delete the namespace (and with it
        every claim in it); `pulumi state unprotect` first (docs/deploy.md)."""
        super().__init__("mcpstack:component:Namespace", name, None, opts)
        meta_labels = {
            "app.kubernetes.io/part-of": manifests.PART_OF,
            manifests.LABEL_ENVIRONMENT: environment,
            **(POD_SECURITY if restricted else {}),
        }
        self.namespace = k8s.core.v1.Namespace(
            name,
            metadata={"name": name, "labels": meta_labels},
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.name = self.namespace.metadata.name
        self.default_deny: k8s.networking.v1.NetworkPolicy | None = None
        if deny_by_default:
            body = default_deny(self.name, environment)
            self.default_deny = k8s.networking.v1.NetworkPolicy(
                f"{name}-{body['metadata']['name']}",
                metadata=body["metadata"],
                spec=body["spec"],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"name": self.name})


class NetworkPolicies(pulumi.ComponentResource):
    """One NetworkPolicy per service (and helper pod), derived from the catalog's dependency graph."""

    names: pulumi.Output[list[str]]

    def __init__(
        self, name: str, deploy: Deploy, topology: Topology, *, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpstack:component:NetworkPolicies", name, None, opts)
        self.policies: list[k8s.networking.v1.NetworkPolicy] = []
        for body in network_policies(deploy.catalog, topology, deploy.namespace):
            if body["spec"]["podSelector"] == {}:
                continue  # the namespace's own default deny
            self.policies.append(
                k8s.networking.v1.NetworkPolicy(
                    f"netpol-{body['metadata']['name']}",
                    metadata=body["metadata"],
                    spec=body["spec"],
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        self.names = pulumi.Output.all(*[p.metadata.name for p in self.policies])
        self.register_outputs({"names": self.names})
