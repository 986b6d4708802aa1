"""Knee finding: each step judged on its requests after settling, and the knee is the last step before the first
that broke."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from mcpstack.capacity import stats
from mcpstack.capacity.knee import find_knee, judge_step, kind_objectives
from mcpstack.capacity.knee_plot import plot_knee
from mcpstack.capacity.knee_report import Knee, KneeLoad, KneeReport, KneeStep
from mcpstack.capacity.locust_run import Target, TargetInfo
from mcpstack.capacity.machine import Conditions, Machine, Versions
from mcpstack.capacity.record import LocustRun, StepMark
from mcpstack.capacity.report import plain, write_report
from mcpstack.capacity.stats import KindJudgement, KindObjective

RunOf = Callable[[str], LocustRun]


def step_of(run: LocustRun, users: int, offset: float = 0.0, seconds: float = 30.0) -> StepMark:
    start = run.record.spawned[0][0] + offset
    return StepMark(users, start, start + seconds)


def judged(run: LocustRun, step: StepMark, target: Target) -> KneeStep:
    return judge_step(step, run.record.requests, run.record.users, run.samples, kind_objectives(target), 5.0)


def test_objectives_per_kind_come_from_the_catalog(dev_target: Target) -> None:
    assert kind_objectives(dev_target) == {
        "tool-call": KindObjective(p95_ms=500, success_rate=0.995),
        "discovery": KindObjective(p95_ms=500, success_rate=0.995),
        "health": KindObjective(p95_ms=100, success_rate=0.995),
    }


def test_a_step_within_the_objectives_passes_after_settling(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    step = step_of(run, 100)
    assert step.end is not None
    result = judged(run, step, dev_target)
    assert result.passed
    assert result.users_running == 100
    assert result.window == (step.start + 5, step.end)
    inside = stats.in_window(run.record.requests, step.start + 5, step.end)
    assert result.rps == round(len(inside) / 25, 1)
    assert set(result.judged) == {"tool-call", "discovery", "health"}
    assert result.generator_cpu_mean > 0
    assert result.containers_cpu_mean["mcpo"] > 0


def test_a_step_whose_users_were_not_all_running_fails(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    result = judged(run, step_of(run, 150), dev_target)
    assert result.users_running == 100
    assert not result.passed


def test_a_slow_step_fails_on_its_kind(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    for r in run.record.requests:
        if r[stats.NAME] == "health":
            r[stats.LATENCY] += 200
    result = judged(run, step_of(run, 100), dev_target)
    assert not result.passed
    assert [k for k, v in result.judged.items() if not v.passed] == ["health"]


def step(users: int, passed: bool, rps: float) -> KneeStep:
    return KneeStep(
        users=users,
        users_running=users,
        window=(0.0, 15.0),
        rps=rps,
        tool_call_rps=rps * 0.8,
        kinds={},
        endpoints_p95_ms={},
        slowest_endpoint=None,
        judged={"tool-call": KindJudgement(100.0, 1.0, passed), "health": KindJudgement(10.0, 1.0, True)},
        passed=passed,
        rate_limited=0,
        connections_median=users,
        generator_cpu_peak=10.0,
        generator_cpu_mean=5.0,
        containers_cpu_mean={},
    )


def test_the_knee_is_the_last_step_before_the_first_break() -> None:
    knee = find_knee([step(25, True, 25), step(50, True, 49), step(100, False, 80), step(150, True, 140)])
    assert knee == Knee(
        users=50, rps=49, tool_call_rps=49 * 0.8, broken_at_users=100, broken=["tool-call"], reached_the_end=False
    )


def test_no_break_means_the_knee_is_further_out() -> None:
    knee = find_knee([step(25, True, 25), step(50, True, 49)])
    assert knee.users == 50
    assert knee.reached_the_end is True
    assert knee.broken_at_users is None


def test_a_first_step_that_breaks_has_no_knee() -> None:
    knee = find_knee([step(25, False, 20)])
    assert knee.users is None
    assert knee.broken_at_users == 25


def knee_report(run: LocustRun, target: Target) -> KneeReport:
    results = [judged(run, step_of(run, users, offset, 10), target) for users, offset in ((60, 0), (100, 10))]
    results.append(judged(run, step_of(run, 140, 20, 10), target))  # not all running: broke
    return KneeReport(
        date="2026-11-23T00:00:00+00:00",
        target=TargetInfo("http://127.0.0.1:8080", None, "dev"),
        load=KneeLoad(0.5, 1.5, [60, 100, 140], 10.0, 5.0),
        objectives=kind_objectives(target),
        steps=results,
        knee=find_knee(results),
        machine=Machine(cpus=2, memory_gib=23.5, kernel="6", python="3.11", system="Linux"),
        conditions=Conditions(),
        versions=Versions("0.1.0", "abc1234", "2.47.0", "mcpstack/mcpo:test"),
        generator_ceiling=None,
        started=run.started,
        users_series=run.record.users,
        samples=run.samples,
    )


def test_the_knee_plot(tmp_path: Path, dev_target: Target, run_of: RunOf) -> None:
    report = knee_report(run_of("slo-100-users"), dev_target)
    assert report.knee.users == 100
    path = plot_knee(report, tmp_path / "knee.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_the_knee_report_reads_back_from_its_json(tmp_path: Path, dev_target: Target, run_of: RunOf) -> None:
    report = knee_report(run_of("slo-100-users"), dev_target)
    written = json.loads(write_report(report, tmp_path).read_text())
    assert written["scenario"] == "stress"
    assert written["knee"]["users"] == 100
    assert written["objectives"]["health"] == {"p95_ms": 100, "success_rate": 0.995}
    assert "client" not in written["target"]
    again = KneeReport.from_json(written)
    assert again.knee == report.knee
    assert again.steps[0].judged == report.steps[0].judged
    assert plain(again.to_json()) == written
