"""`mcpstack preflight STACK`: what the target cluster must already have, read from its API before
anything is created (kubeconfig and context from the stack config), as one table of checks."""

from mcpstack.preflight.checks import Check, Status, run_checks
from mcpstack.preflight.cluster import Cluster, ClusterError, connect
from mcpstack.preflight.target import stack_settings

__all__ = ["Check", "Cluster", "ClusterError", "Status", "connect", "run_checks", "stack_settings"]
