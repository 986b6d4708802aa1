"""The SLO gate's verdicts on real recorded runs (conftest.py): as recorded they pass; changed in one precise way -
a slower endpoint, failed calls, a user short, connections dropped, a noisy client let through - exactly the
objective concerned fails, and with it the gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from mcpstack.capacity import evaluate, stats
from mcpstack.capacity.ceiling import Ceiling
from mcpstack.capacity.evaluate import Verdict
from mcpstack.capacity.gate import TAIL_SECONDS, evaluate_run, measured_window
from mcpstack.capacity.gate_load import GateLoad, seconds, think_range
from mcpstack.capacity.gate_report import GateReport
from mcpstack.capacity.locust_run import Target
from mcpstack.capacity.record import LocustRun
from mcpstack.catalog.models import RateLimits

RunOf = Callable[[str], LocustRun]


def gate_report(run: LocustRun, target: Target, **load: Any) -> GateReport:
    assert target.catalog is not None
    options = {"duration": "30s", **load}
    return evaluate_run(run, target, GateLoad.of(target.catalog.slos, **options))


def verdict(report: GateReport, slo: str) -> Verdict:
    return next(v for v in report.verdicts if v.slo == slo)


def failed(report: GateReport) -> set[str]:
    return {v.slo for v in report.verdicts if not v.passed}


def ceiling(rps: float) -> Ceiling:
    return Ceiling(rps=rps, cpu=99, users=100, date="2026-11-23")


def window_of(run: LocustRun) -> tuple[float, float]:
    window = measured_window(run, 100, 30.0)
    assert window is not None
    return window


def test_the_recorded_100_user_run_passes_every_slo(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    report = gate_report(run, dev_target)
    assert report.passed, failed(report)
    assert failed(report) == set()
    assert report.load.users == 100
    assert report.load.duration_seconds == 30
    names = {v.slo for v in report.verdicts}
    assert {"tool-call (all)", "discovery (all)", "health (all)", "time/get_current_time"} <= names
    assert {"sandbox/execute_python", "time-reference/get_current_time", "time/openapi.json"} <= names
    held = verdict(report, "connections held").details
    assert held["min"] >= 100
    assert held["seconds"] >= 28
    assert verdict(report, "users active").details["active"] == 100


def test_the_ramp_up_is_not_measured(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    report = gate_report(run, dev_target)
    assert report.load.window is not None
    start, end = report.load.window
    assert start == run.record.spawned[0][0]  # the moment the 100th user was started
    assert end - start == pytest.approx(30)
    before = [r for r in run.record.requests if r[stats.START] < start]
    assert before, "the recorded run has a ramp-up"
    assert report.overall.requests == len(stats.in_window(run.record.requests, start, end))
    assert report.overall.requests < len(run.record.requests)


def test_a_slower_endpoint_fails_its_objective_and_its_kind(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    for r in run.record.requests:
        if r[stats.NAME] == "time/get_current_time":
            r[stats.LATENCY] += 600
    report = gate_report(run, dev_target)
    assert not report.passed
    assert failed(report) == {"time/get_current_time", "tool-call (all)"}
    assert "p95 < 250 ms" in verdict(report, "time/get_current_time").target  # the endpoint's own override


def test_an_endpoint_override_adds_a_p99_objective(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    start, end = window_of(run)
    sandbox = [r for r in stats.in_window(run.record.requests, start, end) if r[1] == "sandbox/execute_python"]
    for r in sorted(sandbox, key=lambda r: -r[stats.LATENCY])[:2]:  # over 1% of its calls, under 5%
        r[stats.LATENCY] = 1500
    report = gate_report(run, dev_target)
    assert failed(report) == {"sandbox/execute_python"}
    judged = verdict(report, "sandbox/execute_python")
    assert "p99 < 1000 ms" in judged.target
    assert judged.details["p95_ms"] < 500


def test_failed_calls_below_the_success_rate_fail(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    start, end = window_of(run)
    calls = [r for r in stats.in_window(run.record.requests, start, end) if r[1] == "time/convert_time"]
    calls[0][stats.STATUS], calls[0][stats.ERROR] = 500, "HTTP 500: upstream failed"
    report = gate_report(run, dev_target)
    assert failed(report) == {"time/convert_time", "tool-call (all)"}  # one failure in ~200 calls is < 99.5%
    assert report.failures[0].error == "HTTP 500: upstream failed"
    assert report.failures[0].endpoint == "time/convert_time"


def test_an_unfinished_request_is_a_failure_not_a_gap(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    start, _ = window_of(run)
    run.record.requests.append(
        [start + 20, "sandbox/execute_python", 15000.0, 0, "unfinished: no answer when the run stopped", 3, "x"]
    )
    report = gate_report(run, dev_target)
    assert "sandbox/execute_python" in failed(report)


def test_fewer_users_than_requested_fail_the_gate(dev_target: Target, run_of: RunOf) -> None:
    """101 requested, 100 ran: spawning never completed, so there is no measured window and the gate fails."""
    report = gate_report(run_of("slo-100-users"), dev_target, users=101)
    assert not report.passed
    assert verdict(report, "users running").passed is False
    assert "spawning never completed" in verdict(report, "users running").measured
    assert report.load.window is None


def test_connections_not_held_fail_the_gate(dev_target: Target, run_of: RunOf) -> None:
    """Users were running but their connections closed between calls for 3 of 30 seconds: not 100 concurrent."""
    run = run_of("slo-100-users")
    start, end = window_of(run)
    inside = [i for i, s in enumerate(run.samples) if start <= s.t < end]
    for i in inside[5:8]:
        run.samples[i] = replace(run.samples[i], connections=60)
    report = gate_report(run, dev_target)
    assert failed(report) == {"connections held"}
    assert verdict(report, "connections held").details["min"] == 60


def test_a_user_without_requests_in_the_window_fails_the_gate(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    start, end = window_of(run)
    run.record.requests[:] = [r for r in run.record.requests if not (r[stats.USER] == 7 and start <= r[0] < end)]
    report = gate_report(run, dev_target)
    assert failed(report) == {"users active"}


def test_a_429_for_a_user_within_limits_fails(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    start, end = window_of(run)
    call = next(r for r in stats.in_window(run.record.requests, start, end) if r[1] == "time/get_current_time")
    call[stats.STATUS], call[stats.ERROR] = 429, "HTTP 429: rate limited"
    report = gate_report(run, dev_target)
    assert "429s for users within their limits" in failed(report)


def test_locustfile_errors_fail_the_gate(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    run.record.errors.append([run.started + 10, "ChatUser", "KeyError: 'timezone'"])
    report = gate_report(run, dev_target)
    assert failed(report) == {"locustfile ran cleanly"}


def test_the_recorded_rate_limit_run_passes(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("rate-limit-100-users")
    report = gate_report(run, dev_target, scenario="rate-limit")
    assert report.passed, failed(report)
    refused = verdict(report, "noisy client refused beyond its limit").details
    assert refused["refused"] > 100
    assert refused["malformed"] == 0
    # the noisy client is judged on its own: its 429s are not the other users' failures
    objectives = {v.slo for v in report.verdicts if v.group == "objective"}
    assert not any(name.startswith("noisy") for name in objectives)
    assert 0 < report.endpoints["noisy time/get_current_time"].statuses["429"] <= refused["refused"]


def test_a_noisy_client_let_through_fails(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("rate-limit-100-users")
    for r in run.record.requests:
        if r[stats.NAME].startswith(stats.NOISY_PREFIX):
            r[stats.STATUS] = 200
    report = gate_report(run, dev_target, scenario="rate-limit")
    assert failed(report) == {"noisy client refused beyond its limit", "noisy client accepted as configured"}


def test_the_noisy_client_is_judged_against_the_limit_as_configured(run_of: RunOf) -> None:
    requests = run_of("rate-limit-100-users").record.requests
    as_deployed = evaluate.noisy_verdicts(requests, RateLimits(per_client_per_minute=100))
    assert all(v.passed for v in as_deployed)
    other = evaluate.noisy_verdicts(requests, RateLimits(per_client_per_minute=200))
    assert [v.passed for v in other] == [True, False]  # refused, but far fewer accepted than 200/min allows


def test_a_busy_load_generator_is_a_warning_not_a_failure(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    start, end = window_of(run)
    first = next(i for i, s in enumerate(run.samples) if start <= s.t < end)
    run.samples[first] = replace(run.samples[first], cpu=97.0)
    report = gate_report(run, dev_target)
    assert report.passed
    judged = verdict(report, "load generator not the bottleneck")
    assert judged.warning is True
    assert judged.details["peak_cpu"] == 97.0


def test_a_run_close_to_the_harness_ceiling_warns(run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    window = window_of(run)
    calm = evaluate.generator_verdict(run.samples, window, ceiling(8000), rps=40)
    assert not calm.warning
    assert "0.5% of its 8000 req/s ceiling" in calm.measured
    assert calm.details["ceiling"] == {"rps": 8000, "cpu": 99, "users": 100, "date": "2026-11-23"}
    close = evaluate.generator_verdict(run.samples, window, ceiling(44), rps=40)
    assert close.warning and close.passed


def test_the_ceiling_is_reported_with_the_fraction_reached(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    assert dev_target.catalog is not None
    load = GateLoad.of(dev_target.catalog.slos, duration="30s")
    report = evaluate_run(run, dev_target, load, ceiling=ceiling(8000))
    assert report.generator.ceiling == ceiling(8000)
    assert report.generator.fraction_of_ceiling == round(report.generator.rps / 8000, 3)
    assert "fraction_of_ceiling" not in gate_report(run, dev_target).generator.to_json()


def test_the_window_ends_early_when_the_run_did(run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    spawned = run.record.spawned[0][0]
    run = replace(run, ended=spawned + 12)
    assert measured_window(run, 100, 30) == (spawned, spawned + 12 - TAIL_SECONDS / 2)


def test_load_defaults_come_from_the_catalog(dev_target: Target) -> None:
    assert dev_target.catalog is not None
    slos = dev_target.catalog.slos
    load = GateLoad.of(slos)
    assert (load.users, load.noisy, load.measured, load.spawn_rate) == (100, 0, 60.0, 20.0)
    assert (load.think_min, load.think_max) == (8, 16)
    noisy = GateLoad.of(slos, "rate-limit", users=10, duration="2m", spawn_rate=5)
    assert (noisy.users, noisy.noisy, noisy.total, noisy.measured, noisy.spawn_rate) == (10, 1, 11, 120.0, 5)
    with pytest.raises(ValueError, match="no such scenario"):
        GateLoad.of(slos, "soak")
    paced = GateLoad.of(slos, think="1-3")
    assert (paced.think_min, paced.think_max) == (1.0, 3.0)


@pytest.mark.parametrize("text", ["8", "16-8", "a-b", "-1-2"])
def test_a_bad_think_time_range_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="think time range"):
        think_range(text)


def test_an_overridden_think_time_is_reported(dev_target: Target, run_of: RunOf) -> None:
    report = gate_report(run_of("slo-100-users"), dev_target)
    assert report.load.think_time_from_catalog is True
    report = gate_report(run_of("slo-100-users"), dev_target, think="1-3")
    assert report.load.to_json()["think_time_seconds"] == {"min": 1.0, "max": 3.0}
    assert report.load.think_time_from_catalog is False


@pytest.mark.parametrize(("text", "value"), [("30s", 30), ("2m", 120), ("1h", 3600), ("90", 90), ("500ms", 0.5)])
def test_durations(text: str, value: float) -> None:
    assert seconds(text) == value


def test_a_bad_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        seconds("thirty seconds")


def test_a_user_count_sampled_as_spawning_completes_is_not_judged(dev_target: Target, run_of: RunOf) -> None:
    """Spawning completes in the same instant the user count is sampled: that sample may predate the last batch."""
    run = run_of("slo-100-users")
    start, _ = window_of(run)
    run.record.users.append((start, 80))
    assert gate_report(run, dev_target).passed
    run.record.users.append((start + 5, 80))  # a user gone in the middle of the window
    assert failed(gate_report(run, dev_target)) == {"users running"}
