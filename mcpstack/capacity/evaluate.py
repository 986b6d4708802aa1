"""Verdicts of one run, from what the locustfile recorded and what the runner sampled (pure functions).

- objectives: every endpoint's p95 (and p99 where set) and success rate against the catalog's `slos`, and each
  kind of request as a whole;
- concurrency: the requested users were running through the whole measured window, each made requests in it, and
  the load generator held that many connections to the target at once;
- rate limits: users within their limits never got 429; in the rate-limit scenario the noisy client got 429 (with
  Retry-After, as problem+json) beyond its bucket and about as many calls through as the configured limit allows;
- the load generator: a warning (not a failure) when its CPU went over 90%: it may have been the bottleneck.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mcpstack.capacity.ceiling import Ceiling
from mcpstack.capacity.record import Sample, UserCount
from mcpstack.capacity.stats import (
    ERROR,
    NAME,
    NOISY_PREFIX,
    STATUS,
    USER,
    Request,
    by_endpoint,
    by_kind,
    kind_of,
    summary,
)
from mcpstack.catalog.models import RateLimits, Slos

GENERATOR_CPU_WARNING = 90.0  # percent of one core: locust is one process, one core
HELD_FRACTION = 0.95  # samples of the window in which every user's connection must be open
# Samples of the user count and of connections taken in the first second of the window may predate the last batch
# of users (spawning completes in the same instant): they are not judged.
GRACE_SECONDS = 1.0
KINDS = ("tool-call", "discovery", "health")


@dataclass(frozen=True)
class Verdict:
    """One line of the SLO table: what was required, what was measured, and the figures behind it (JSON)."""

    group: str  # objective, concurrency, rate-limit, generator
    slo: str
    target: str
    measured: str
    passed: bool
    warning: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Verdict:
        return cls(**doc)


@dataclass(frozen=True)
class Failure:
    """Failed requests of one endpoint with one error, counted."""

    endpoint: str
    error: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Failure:
        return cls(**doc)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 100:.2f}%"


def objective_verdicts(requests: Sequence[Request], slos: Slos, seconds: float) -> list[Verdict]:
    """Each kind of request as a whole, then each endpoint, against its objective."""
    verdicts = []
    judged = [r for r in requests if not r[NAME].startswith(NOISY_PREFIX)]
    kinds = by_kind(judged)
    for kind in KINDS:
        objective = slos.objectives.get(kind)  # type: ignore[call-overload]
        rows = kinds.get(kind, [])
        if objective is None and not rows:
            continue
        verdicts.append(
            _judge(f"{kind} (all)", rows, objective.p95_ms if objective else None, None, slos.success_rate, seconds)
        )
    for endpoint, rows in by_endpoint(judged).items():
        if endpoint in KINDS and endpoint not in slos.endpoints:
            continue  # `health` is its kind's only endpoint: judged above, same objective
        objective = slos.objective(endpoint)
        verdicts.append(
            _judge(endpoint, rows, objective.p95_ms, objective.p99_ms, objective.success_rate or 1.0, seconds)
        )
    return verdicts


def _judge(
    name: str, rows: Sequence[Request], p95: float | None, p99: float | None, success: float, seconds: float
) -> Verdict:
    figures = summary(rows, seconds)
    targets, measured, passed = [], [], True
    if p95 is not None:
        targets.append(f"p95 < {p95:g} ms")
        measured.append(f"p95 {_ms(figures.p95_ms)}")
        passed &= figures.p95_ms < p95
    if p99 is not None:
        targets.append(f"p99 < {p99:g} ms")
        measured.append(f"p99 {_ms(figures.p99_ms)}")
        passed &= figures.p99_ms < p99
    targets.append(f"success >= {success * 100:g}%")
    measured.append(f"{_pct(figures.success_rate)} of {figures.requests}")
    passed &= figures.requests > 0 and figures.success_rate >= success
    return Verdict("objective", name, ", ".join(targets), ", ".join(measured), bool(passed), details=figures.to_json())


def concurrency_verdicts(
    requests: Sequence[Request],
    users: Sequence[UserCount],
    samples: Sequence[Sample],
    expected: int,
    window: tuple[float, float] | None,
) -> list[Verdict]:
    if window is None:
        reached = max((count for _, count in users), default=0)
        return [
            Verdict(
                "concurrency",
                "users running",
                f"{expected} through the window",
                f"spawning never completed (at most {reached} running)",
                False,
            )
        ]
    start, end = window
    counts = [count for t, count in users if start + GRACE_SECONDS <= t < end]
    running = min(counts) if counts else 0
    active = {r[USER] for r in requests if r[USER] is not None}
    held = [s.connections for s in samples if start + GRACE_SECONDS <= s.t < end]
    full = sum(1 for n in held if n >= expected)
    held_ok = bool(held) and full / len(held) >= HELD_FRACTION
    return [
        Verdict(
            "concurrency",
            "users running",
            f"{expected} through the window",
            f"min {running} ({len(counts)} samples)",
            bool(counts) and running >= expected,
            details={"min": running, "samples": len(counts)},
        ),
        Verdict(
            "concurrency",
            "users active",
            f"{expected} with requests in the window",
            f"{len(active)}",
            len(active) >= expected,
            details={"active": len(active)},
        ),
        Verdict(
            "concurrency",
            "connections held",
            f">= {expected} open in {HELD_FRACTION * 100:g}% of seconds",
            f"min {min(held, default=0)}, median {statistics.median(held) if held else 0:g}, "
            f">= {expected} in {full}/{len(held)} s",
            held_ok,
            details={
                "min": min(held, default=0),
                "max": max(held, default=0),
                "median": statistics.median(held) if held else 0,
                "full_seconds": full,
                "seconds": len(held),
            },
        ),
    ]


def within_limits_verdict(requests: Sequence[Request]) -> Verdict:
    refused = sum(1 for r in requests if r[STATUS] == 429 and not r[NAME].startswith(NOISY_PREFIX))
    return Verdict("rate-limit", "429s for users within their limits", "0", str(refused), refused == 0)


def noisy_verdicts(all_requests: Sequence[Request], limits: RateLimits) -> list[Verdict]:
    """The noisy client over the whole run (its bucket spans the ramp-up): refused beyond its bucket, and about as
    many calls accepted as the configured per-user limit allows in that time (bucket + refill)."""
    noisy = [r for r in all_requests if r[NAME].startswith(NOISY_PREFIX)]
    if not noisy:
        return [Verdict("rate-limit", "noisy client", "calls", "none recorded", False)]
    accepted = sum(1 for r in noisy if r[STATUS] == 200)
    refused = sum(1 for r in noisy if r[STATUS] == 429)
    malformed = sum(1 for r in noisy if r[ERROR] is not None)
    seconds = noisy[-1][0] - noisy[0][0]
    capacity = limits.per_client_per_minute
    allowed = min(len(noisy), capacity + capacity / 60 * seconds)
    low, high = math.floor(allowed * 0.9) - 1, math.ceil(allowed * 1.05) + 1
    return [
        Verdict(
            "rate-limit",
            "noisy client refused beyond its limit",
            "429 with Retry-After, problem+json",
            f"{refused} of {len(noisy)} refused, {malformed} malformed or failed",
            refused > 0 and malformed == 0,
            details={"calls": len(noisy), "accepted": accepted, "refused": refused, "malformed": malformed},
        ),
        Verdict(
            "rate-limit",
            "noisy client accepted as configured",
            f"{low}-{high} ({capacity}/min, bucket {capacity}, {seconds:.0f} s)",
            str(accepted),
            low <= accepted <= high,
            details={"expected": allowed, "seconds": seconds},
        ),
    ]


def generator_verdict(
    samples: Sequence[Sample], window: tuple[float, float] | None, ceiling: Ceiling | None, rps: float = 0.0
) -> Verdict:
    """A warning (never a failure) when the load generator came close to its own limit: over 90% of its core, or
    over 90% of the req/s `mcpstack bench loadgen` measured one locust process to drive on this machine."""
    inside = [s for s in samples if window is None or window[0] <= s.t < window[1]]
    peak = max((s.cpu for s in inside), default=0.0)
    mean = statistics.fmean(s.cpu for s in inside) if inside else 0.0
    measured = f"peak {peak:.0f}%, mean {mean:.0f}% of a core"
    target = f"CPU <= {GENERATOR_CPU_WARNING:g}% (warning only)"
    close = peak > GENERATOR_CPU_WARNING
    if ceiling:
        fraction = rps / ceiling.rps if ceiling.rps else 0.0
        measured += f"; {rps:.0f} req/s = {fraction * 100:.1f}% of its {ceiling.rps:.0f} req/s ceiling"
        target = f"CPU <= {GENERATOR_CPU_WARNING:g}%, req/s <= {GENERATOR_CPU_WARNING:g}% of ceiling (warning only)"
        close = close or fraction > GENERATOR_CPU_WARNING / 100
    else:
        measured += " (ceiling not measured: mcpstack bench loadgen)"
    return Verdict(
        "generator",
        "load generator not the bottleneck",
        target,
        measured,
        True,
        warning=close,
        details={"peak_cpu": peak, "mean_cpu": mean, "rps": rps, "ceiling": ceiling.to_json() if ceiling else None},
    )


def locustfile_verdict(errors: Sequence[Sequence[Any]], exit_code: int) -> Verdict:
    """The virtual users ran as written: no exception escaped a task (a user cut short changes the load), and locust
    itself ended normally (0, or 1: requests failed, which the objectives judge)."""
    passed = not errors and exit_code in (0, 1)
    measured = f"{len(errors)} task errors, exit code {exit_code}"
    if errors:
        measured += f"; first: {errors[0][-1]}"
    return Verdict("generator", "locustfile ran cleanly", "no task errors, exit 0 or 1", measured, passed)


def failures_by_reason(requests: Sequence[Request], limit: int = 10) -> list[Failure]:
    reasons: dict[tuple[str, str], int] = {}
    for r in requests:
        if r[ERROR] is not None:
            key = (r[NAME], r[ERROR])
            reasons[key] = reasons.get(key, 0) + 1
    ranked = sorted(reasons.items(), key=lambda item: -item[1])[:limit]
    return [Failure(name, error, count) for (name, error), count in ranked]


def kinds_present(requests: Sequence[Request]) -> list[str]:
    present = {kind_of(r[NAME]) for r in requests}
    return [k for k in (*KINDS, "noisy") if k in present]
