"""The sandbox's own Prometheus metrics, on the server's registry (next to servers/common's tool metrics)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from servers.sandbox.layers import Layer
from servers.sandbox.packages import DenialReason
from servers.sandbox.results import ExecutionResult, StopReason

RUN_BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
OUTCOMES = ("ok", "error", *(reason.value for reason in StopReason), "busy", "internal_error")


def outcome_of(result: ExecutionResult) -> str:
    if result.stopped_reason is not None:
        return result.stopped_reason.value
    return "ok" if result.exit_code == 0 else "error"


class SandboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "sandbox_runs",
            "Runs by outcome: ok (exit 0), error (other exit code), the limit or policy that stopped the run "
            "(timeout, output_limit, memory, process_limit, ..., denied_package, install_failed), busy (no slot "
            "in time), internal_error",
            ["outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "sandbox_run_duration_seconds",
            "Duration of whole runs (installs included), by outcome",
            ["outcome"],
            buckets=RUN_BUCKETS,
            registry=registry,
        )
        self.denials = Counter(
            "sandbox_package_denials", "Package requests denied, by reason", ["reason"], registry=registry
        )
        self.active = Gauge("sandbox_active_runs", "Runs in progress", registry=registry)
        self.queued = Gauge("sandbox_queued_runs", "Runs waiting for a slot", registry=registry)
        self.capacity = Gauge("sandbox_max_concurrent_runs", "Size of the pool of concurrent runs", registry=registry)
        self.layers = Gauge(
            "sandbox_isolation_layer",
            "1 if runs get this isolation layer, 0 if the host lacks it or it is turned off; `required`: the "
            "server refuses to start without it",
            ["layer", "required"],
            registry=registry,
        )
        for outcome in OUTCOMES:
            self.runs.labels(outcome)
        for reason in DenialReason:
            self.denials.labels(reason.value)

    def set_layers(self, active: Iterable[Layer], required: Iterable[Layer]) -> None:
        active, required = set(active), set(required)
        for layer in Layer:
            self.layers.labels(layer.value, str(layer in required).lower()).set(1 if layer in active else 0)

    def pool_changed(self, active: int, queued: int) -> None:
        self.active.set(active)
        self.queued.set(queued)

    def record(self, result: ExecutionResult, seconds: float) -> None:
        outcome = outcome_of(result)
        self.runs.labels(outcome).inc()
        self.duration.labels(outcome).observe(seconds)
        if result.denial is not None:
            self.denials.labels(result.denial.reason.value).inc()

    def record_failure(self, outcome: str, seconds: float) -> None:
        self.runs.labels(outcome).inc()
        self.duration.labels(outcome).observe(seconds)
