"""Pulumi ComponentResources: one per catalog service kind (workload.py), the Helm releases
(releases.py), the namespace and NetworkPolicies (network.py), and the two platforms (platform.py)."""
