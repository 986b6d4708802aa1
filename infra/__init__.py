"""Pulumi ComponentResources and the pure Kubernetes object builders behind the stacks in stacks/."""
