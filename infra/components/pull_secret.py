"""The stack's image pull Secret (`imagePullSecret`): a kubernetes.io/dockerconfigjson Secret, named by the
setting (pods refer to it by that name), its content from the secret config PULL_SECRET_CONFIG."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.components.context import Deploy
from infra.settings import PROJECT

PULL_SECRET_CONFIG = "image-pull-dockerconfigjson"  # noqa: S105 - a config key name, not a credential


def image_pull_secret(deploy: Deploy, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret | None:
    name = deploy.settings.image_pull_secret
    if not name:
        return None
    config = pulumi.Config(PROJECT)
    if config.get_secret(PULL_SECRET_CONFIG) is None:
        raise pulumi.RunError(
            f"imagePullSecret {name!r} needs its content: "
            f'pulumi config set --secret {PROJECT}:{PULL_SECRET_CONFIG} "$(cat ~/.docker/config.json)"'
        )
    return k8s.core.v1.Secret(
        f"pull-secret-{name}",
        metadata={"name": name, "namespace": deploy.namespace, "labels": {"app.kubernetes.io/part-of": "mcpstack"}},
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": config.require_secret(PULL_SECRET_CONFIG)},
        opts=opts,
    )
