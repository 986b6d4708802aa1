"""Figures from recorded requests. A request is the list the locustfiles record:
[start (epoch s), endpoint, latency ms, HTTP status (0: no answer), error (None: success), user, correlation ID].

Percentiles are exact (nearest rank over every request), not locust's rounded buckets. NaN stands for a figure with
nothing to compute it from (no requests); report.json writes it as null and from_json reads null back as NaN.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

START, NAME, LATENCY, STATUS, ERROR, USER, CID = range(7)
NOISY_PREFIX = "noisy "  # endpoints of the rate-limit scenario's noisy client: judged on their own
Request = Sequence[Any]


def number(value: float | None) -> float:
    """A figure read back from JSON: null (NaN when written) is NaN again."""
    return math.nan if value is None else value


@dataclass(frozen=True)
class Figures:
    """Counts, exact percentiles and rate of a set of requests over `seconds`."""

    requests: int
    failures: int
    success_rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float
    statuses: dict[str, int]  # HTTP status (0: no answer) -> count

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Figures:
        return cls(
            requests=doc["requests"],
            failures=doc["failures"],
            success_rate=number(doc["success_rate"]),
            p50_ms=number(doc["p50_ms"]),
            p95_ms=number(doc["p95_ms"]),
            p99_ms=number(doc["p99_ms"]),
            max_ms=number(doc["max_ms"]),
            rps=number(doc["rps"]),
            statuses=dict(doc["statuses"]),
        )


@dataclass(frozen=True)
class KindObjective:
    """What a kind of request (tool-call, discovery, health) must meet in a knee step: p95 (when set) and success
    rate. Handed to the knee locustfile as JSON (LOADTEST_OBJECTIVES)."""

    success_rate: float
    p95_ms: float | None = None

    def to_json(self) -> dict[str, float]:
        return {**({"p95_ms": self.p95_ms} if self.p95_ms is not None else {}), "success_rate": self.success_rate}

    @classmethod
    def from_json(cls, doc: Mapping[str, float]) -> KindObjective:
        return cls(doc.get("success_rate", 0.0), doc.get("p95_ms"))


@dataclass(frozen=True)
class KindJudgement:
    """A kind of request in a knee step against its KindObjective."""

    p95_ms: float
    success_rate: float
    passed: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> KindJudgement:
        return cls(number(doc["p95_ms"]), number(doc["success_rate"]), doc["passed"])


@dataclass(frozen=True)
class KindSeries:
    """One kind of request per time bin (NaN percentiles for an empty bin)."""

    rps: list[float]
    p50_ms: list[float]
    p95_ms: list[float]
    p99_ms: list[float]
    failures: list[int]
    rate_limited: list[int]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> KindSeries:
        return cls(
            rps=[number(v) for v in doc["rps"]],
            p50_ms=[number(v) for v in doc["p50_ms"]],
            p95_ms=[number(v) for v in doc["p95_ms"]],
            p99_ms=[number(v) for v in doc["p99_ms"]],
            failures=list(doc["failures"]),
            rate_limited=list(doc["rate_limited"]),
        )


@dataclass(frozen=True)
class TimeSeries:
    """Requests binned by start time: the bins' offsets from the start, and per kind of request its figures."""

    t: list[float]
    bin_seconds: float
    kinds: dict[str, KindSeries]

    def to_json(self) -> dict[str, Any]:
        return {"t": self.t, "bin_seconds": self.bin_seconds, **{k: s.to_json() for k, s in self.kinds.items()}}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TimeSeries:
        kinds = {k: KindSeries.from_json(v) for k, v in doc.items() if k not in ("t", "bin_seconds")}
        return cls(list(doc["t"]), doc["bin_seconds"], kinds)


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


def summary(requests: Iterable[Request], seconds: float) -> Figures:
    rows = list(requests)
    latencies = sorted(r[LATENCY] for r in rows)
    failures = sum(1 for r in rows if r[ERROR] is not None)
    count = len(rows)
    return Figures(
        requests=count,
        failures=failures,
        success_rate=(count - failures) / count if count else math.nan,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else math.nan,
        rps=count / seconds if seconds > 0 else math.nan,
        statuses={str(k): v for k, v in sorted(Counter(r[STATUS] for r in rows).items())},
    )


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


def judge_kinds(requests: Iterable[Request], objectives: Mapping[str, KindObjective]) -> dict[str, KindJudgement]:
    """Per kind of request: p95 and success rate against its objective (the knee steps)."""
    judged = {}
    for kind, rows in by_kind(requests).items():
        objective = objectives.get(kind)
        if objective is None:
            continue
        figures = summary(rows, 1.0)
        passed = figures.success_rate >= objective.success_rate
        if objective.p95_ms is not None:
            passed = passed and figures.p95_ms <= objective.p95_ms
        judged[kind] = KindJudgement(figures.p95_ms, figures.success_rate, passed)
    return judged


def time_series(
    requests: Iterable[Request], start: float, end: float, bin_seconds: float, kinds: Sequence[str]
) -> TimeSeries:
    """Per bin and kind: requests per second, p50/p95/p99 (NaN for an empty bin), failures and 429s."""
    bins = max(1, math.ceil((end - start) / bin_seconds))
    buckets: dict[str, list[list[Request]]] = {kind: [[] for _ in range(bins)] for kind in kinds}
    for r in requests:
        kind = kind_of(r[NAME])
        index = int((r[START] - start) // bin_seconds)
        if kind in buckets and 0 <= index < bins:
            buckets[kind][index].append(r)
    series = {}
    for kind, rows_per_bin in buckets.items():
        latencies = [sorted(r[LATENCY] for r in rows) for rows in rows_per_bin]
        series[kind] = KindSeries(
            rps=[len(rows) / bin_seconds for rows in rows_per_bin],
            p50_ms=[percentile(values, 50) for values in latencies],
            p95_ms=[percentile(values, 95) for values in latencies],
            p99_ms=[percentile(values, 99) for values in latencies],
            failures=[sum(1 for r in rows if r[ERROR] is not None) for rows in rows_per_bin],
            rate_limited=[sum(1 for r in rows if r[STATUS] == 429) for rows in rows_per_bin],
        )
    return TimeSeries([round(i * bin_seconds, 3) for i in range(bins)], bin_seconds, series)
