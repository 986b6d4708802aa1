"""mcpstack on Kubernetes: `pulumi up -s dev` (compose-equivalent) or `pulumi up -s prod` (Helm charts).

Everything deployed comes from the catalog (../config) the e2e suites run; the stack's config says
where (namespace, registry, storage, ingress) and holds the secret values. See docs/deploy.md.
"""

from pathlib import Path

from infra.program import run

run(Path(__file__).resolve().parent)
