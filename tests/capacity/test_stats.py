"""Figures from recorded requests: nearest-rank percentiles, summaries, windows, kinds and time series."""

from __future__ import annotations

import math

import pytest

from mcpstack.capacity import stats
from mcpstack.capacity.stats import Figures, KindObjective


def row(start: float, name: str, ms: float, status: int = 200, error: str | None = None, user: int = 1) -> list:
    return [start, name, ms, status, error, user, f"u{user}-{start}"]


def test_percentiles_are_nearest_rank_over_every_value() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert stats.percentile(values, 50) == 50
    assert stats.percentile(values, 95) == 95
    assert stats.percentile(values, 99) == 99
    assert stats.percentile(values, 100) == 100
    assert stats.percentile([7.0], 95) == 7.0
    assert stats.percentile([1.0, 2.0], 95) == 2.0  # never interpolated below a value that occurred
    assert math.isnan(stats.percentile([], 95))


def test_one_slow_request_in_twenty_is_the_p95_but_not_in_twenty_one() -> None:
    fast = [10.0] * 19
    assert stats.percentile(sorted([*fast, 900.0]), 95) == 10.0
    assert stats.percentile(sorted([*fast, 900.0, 950.0]), 95) == 900.0


def test_summary_counts_failures_statuses_and_rate() -> None:
    rows = [row(0, "time/get_current_time", 10)] * 8 + [
        row(1, "time/get_current_time", 20, 429, "HTTP 429"),
        row(2, "time/get_current_time", 5000, 0, "unfinished: no answer when the run stopped"),
    ]
    figures = stats.summary(rows, 5.0)
    assert figures.requests == 10
    assert figures.failures == 2
    assert figures.success_rate == pytest.approx(0.8)
    assert figures.rps == 2.0
    assert figures.max_ms == 5000
    assert figures.statuses == {"0": 1, "200": 8, "429": 1}
    assert Figures.from_json(figures.to_json()) == figures


def test_an_empty_summary_has_no_figures() -> None:
    figures = stats.summary([], 10)
    assert figures.requests == 0
    assert math.isnan(figures.p95_ms)
    assert math.isnan(figures.success_rate)
    written = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in figures.to_json().items()}
    again = Figures.from_json(written)  # as report.json holds it: NaN written as null
    assert again.requests == 0
    assert math.isnan(again.p95_ms) and math.isnan(again.max_ms)


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        ("health", "health"),
        ("time/get_current_time", "tool-call"),
        ("sandbox/execute_python", "tool-call"),
        ("time-reference/openapi.json", "discovery"),
        ("noisy time/get_current_time", "noisy"),
    ],
)
def test_kinds_of_endpoints(endpoint: str, kind: str) -> None:
    assert stats.kind_of(endpoint) == kind


def test_the_window_holds_requests_that_started_in_it() -> None:
    rows = [row(t, "health", 1) for t in (9.99, 10.0, 15.0, 19.99, 20.0)]
    assert [r[0] for r in stats.in_window(rows, 10.0, 20.0)] == [10.0, 15.0, 19.99]


def test_time_series_bins_per_kind() -> None:
    rows = [row(0.5, "health", 2), row(1.5, "health", 4), row(2.5, "time/convert_time", 30, 429, "HTTP 429")]
    series = stats.time_series(rows, 0.0, 4.0, 2.0, ["health", "tool-call"])
    assert series.t == [0.0, 2.0]
    assert series.kinds["health"].rps == [1.0, 0.0]
    assert series.kinds["health"].p95_ms[0] == 4
    assert math.isnan(series.kinds["health"].p95_ms[1])
    assert series.kinds["tool-call"].rate_limited == [0, 1]
    assert series.kinds["tool-call"].failures == [0, 1]
    written = series.to_json()
    assert set(written) == {"t", "bin_seconds", "health", "tool-call"}  # the kinds beside the bins, as before
    assert stats.TimeSeries.from_json(written).kinds["tool-call"] == series.kinds["tool-call"]


def test_judge_kinds_by_p95_and_success_rate() -> None:
    rows = [row(0, "time/get_current_time", 100)] * 19 + [row(0, "time/get_current_time", 900)]
    rows += [row(0, "health", 150)] * 20
    objectives = {"tool-call": KindObjective(0.995, 500), "health": KindObjective(0.9, 100)}
    judged = stats.judge_kinds(rows, objectives)
    assert judged["tool-call"].passed is True
    assert judged["health"].passed is False
    failing = [*rows[:19], row(0, "time/get_current_time", 100, 500, "HTTP 500")]
    assert stats.judge_kinds(failing, objectives)["tool-call"].passed is False  # 95% < 99.5% successful


def test_kind_objectives_travel_to_the_locustfile_as_json() -> None:
    """The knee locustfile reads them from LOADTEST_OBJECTIVES: a kind without a p95 objective has no p95_ms."""
    assert KindObjective(0.995, 500).to_json() == {"p95_ms": 500, "success_rate": 0.995}
    assert KindObjective(0.995).to_json() == {"success_rate": 0.995}
    for objective in (KindObjective(0.995, 500), KindObjective(0.9)):
        assert KindObjective.from_json(objective.to_json()) == objective
