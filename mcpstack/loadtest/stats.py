"""Figures from recorded requests. A request is the list the locustfiles record:
[start (epoch s), endpoint, latency ms, HTTP status (0: no answer), error (None: success), user, correlation ID].

Percentiles are exact (nearest rank over every request), not locust's rounded buckets.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

START, NAME, LATENCY, STATUS, ERROR, USER, CID = range(7)
NOISY_PREFIX = "noisy "  # endpoints of the rate-limit scenario's noisy client: judged on their own
Request = Sequence[Any]


def kind_of(endpoint: str) -> str:
    if endpoint.startswith(NOISY_PREFIX):
        return "noisy"
    if endpoint == "health":
        return "health"
    return "discovery" if endpoint.endswith("/openapi.json") else "tool-call"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of values sorted ascending; NaN when there are none."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(requests: Iterable[Request], seconds: float) -> dict[str, Any]:
    rows = list(requests)
    latencies = sorted(r[LATENCY] for r in rows)
    failures = sum(1 for r in rows if r[ERROR] is not None)
    count = len(rows)
    return {
        "requests": count,
        "failures": failures,
        "success_rate": (count - failures) / count if count else math.nan,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else math.nan,
        "rps": count / seconds if seconds > 0 else math.nan,
        "statuses": {str(k): v for k, v in sorted(Counter(r[STATUS] for r in rows).items())},
    }


def group(requests: Iterable[Request], key: Any) -> dict[str, list[Request]]:
    groups: dict[str, list[Request]] = defaultdict(list)
    for r in requests:
        groups[key(r)].append(r)
    return dict(sorted(groups.items()))


def by_endpoint(requests: Iterable[Request]) -> dict[str, list[Request]]:
    return group(requests, lambda r: r[NAME])


def by_kind(requests: Iterable[Request]) -> dict[str, list[Request]]:
    return group(requests, lambda r: kind_of(r[NAME]))


def in_window(requests: Iterable[Request], start: float, end: float) -> list[Request]:
    """Requests that started in [start, end)."""
    return [r for r in requests if start <= r[START] < end]


def judge_kinds(requests: Iterable[Request], objectives: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Per kind of request: p95 and success rate against {kind: {p95_ms, success_rate}} (the stress steps)."""
    judged = {}
    for kind, rows in by_kind(requests).items():
        objective = objectives.get(kind)
        if objective is None:
            continue
        figures = summary(rows, 1.0)
        passed = figures["success_rate"] >= objective.get("success_rate", 0)
        if objective.get("p95_ms") is not None:
            passed = passed and figures["p95_ms"] <= objective["p95_ms"]
        judged[kind] = {"p95_ms": figures["p95_ms"], "success_rate": figures["success_rate"], "passed": passed}
    return judged


def time_series(
    requests: Iterable[Request], start: float, end: float, bin_seconds: float, kinds: Sequence[str]
) -> dict[str, Any]:
    """Per bin and kind: requests per second, p50/p95/p99 (NaN for an empty bin), failures and 429s."""
    bins = max(1, math.ceil((end - start) / bin_seconds))
    buckets: dict[str, list[list[Request]]] = {kind: [[] for _ in range(bins)] for kind in kinds}
    for r in requests:
        kind = kind_of(r[NAME])
        index = int((r[START] - start) // bin_seconds)
        if kind in buckets and 0 <= index < bins:
            buckets[kind][index].append(r)
    series: dict[str, Any] = {"t": [round(i * bin_seconds, 3) for i in range(bins)], "bin_seconds": bin_seconds}
    for kind, rows_per_bin in buckets.items():
        latencies = [sorted(r[LATENCY] for r in rows) for rows in rows_per_bin]
        series[kind] = {
            "rps": [len(rows) / bin_seconds for rows in rows_per_bin],
            "p50_ms": [percentile(values, 50) for values in latencies],
            "p95_ms": [percentile(values, 95) for values in latencies],
            "p99_ms": [percentile(values, 99) for values in latencies],
            "failures": [sum(1 for r in rows if r[ERROR] is not None) for rows in rows_per_bin],
            "rate_limited": [sum(1 for r in rows if r[STATUS] == 429) for rows in rows_per_bin],
        }
    return series
