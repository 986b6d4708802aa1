"""Knee finding: each step judged on its requests after settling, and the knee is the last step before the first
that broke."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcpstack.loadtest import stats
from mcpstack.loadtest.runner import LocustRun, Target
from mcpstack.loadtest.stress import find_knee, judge_step, kind_objectives, plot_knee

RunOf = Callable[[str], LocustRun]


def step_of(run: LocustRun, users: int, offset: float = 0.0, seconds: float = 30.0) -> dict[str, Any]:
    start = run.record["spawned"][0][0] + offset
    return {"users": users, "start": start, "end": start + seconds}


def judged(run: LocustRun, step: dict[str, Any], target: Target) -> dict[str, Any]:
    return judge_step(step, run.record["requests"], run.record["users"], run.samples, kind_objectives(target), 5.0)


def test_objectives_per_kind_come_from_the_catalog(dev_target: Target) -> None:
    assert kind_objectives(dev_target) == {
        "tool-call": {"p95_ms": 500, "success_rate": 0.995},
        "discovery": {"p95_ms": 500, "success_rate": 0.995},
        "health": {"p95_ms": 100, "success_rate": 0.995},
    }


def test_a_step_within_the_objectives_passes_after_settling(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    step = step_of(run, 100)
    result = judged(run, step, dev_target)
    assert result["passed"]
    assert result["users_running"] == 100
    assert result["window"] == [step["start"] + 5, step["end"]]
    inside = stats.in_window(run.record["requests"], step["start"] + 5, step["end"])
    assert result["rps"] == round(len(inside) / 25, 1)
    assert set(result["judged"]) == {"tool-call", "discovery", "health"}
    assert result["generator_cpu_mean"] > 0
    assert result["containers_cpu_mean"]["mcpo"] > 0


def test_a_step_whose_users_were_not_all_running_fails(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    result = judged(run, step_of(run, 150), dev_target)
    assert result["users_running"] == 100
    assert not result["passed"]


def test_a_slow_step_fails_on_its_kind(dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    for r in run.record["requests"]:
        if r[stats.NAME] == "health":
            r[stats.LATENCY] += 200
    result = judged(run, step_of(run, 100), dev_target)
    assert not result["passed"]
    assert [k for k, v in result["judged"].items() if not v["passed"]] == ["health"]


def step(users: int, passed: bool, rps: float) -> dict[str, Any]:
    judged = {"tool-call": {"passed": passed}, "health": {"passed": True}}
    return {"users": users, "passed": passed, "rps": rps, "tool_call_rps": rps * 0.8, "judged": judged}


def test_the_knee_is_the_last_step_before_the_first_break() -> None:
    knee = find_knee([step(25, True, 25), step(50, True, 49), step(100, False, 80), step(150, True, 140)])
    assert knee == {
        "users": 50,
        "rps": 49,
        "tool_call_rps": 49 * 0.8,
        "broken_at_users": 100,
        "broken": ["tool-call"],
        "reached_the_end": False,
    }


def test_no_break_means_the_knee_is_further_out() -> None:
    knee = find_knee([step(25, True, 25), step(50, True, 49)])
    assert knee["users"] == 50
    assert knee["reached_the_end"] is True
    assert knee["broken_at_users"] is None


def test_a_first_step_that_breaks_has_no_knee() -> None:
    knee = find_knee([step(25, False, 20)])
    assert knee["users"] is None
    assert knee["broken_at_users"] == 25


def test_the_knee_plot(tmp_path: Path, dev_target: Target, run_of: RunOf) -> None:
    run = run_of("slo-100-users")
    results = [judged(run, step_of(run, users, offset, 10), dev_target) for users, offset in ((60, 0), (100, 10))]
    results.append(judged(run, step_of(run, 140, 20, 10), dev_target))  # not all running: broke
    report = {
        "steps": results,
        "knee": find_knee(results),
        "objectives": kind_objectives(dev_target),
        "load": {"think_time_seconds": {"min": 0.5, "max": 1.5}},
        "target": {"environment": "dev"},
        "machine": {"cpus": 2, "memory_gib": 23.5, "kernel": "6"},
        "date": "2026-11-23T00:00:00+00:00",
    }
    assert report["knee"]["users"] == 100
    path = plot_knee(report, tmp_path / "knee.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
