"""What a run prints and pastes: the gate's verdict table (terminal and Markdown, with what it was measured on) and
the knee's steps."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from mcpstack.capacity.gate_report import GateReport
from mcpstack.capacity.knee_report import KneeReport
from mcpstack.capacity.stats import Figures


def table(report: GateReport) -> Table:
    load = report.load
    verdict = "[green]PASSED[/green]" if report.passed else "[red]FAILED[/red]"
    users = f"{load.users} users" + (f" + {load.noisy_clients} noisy" if load.noisy_clients else "")
    title = (
        f"SLO gate ({report.scenario}): {verdict} - {users}, {load.duration_seconds:g} s measured, think "
        f"{load.think_min:g}-{load.think_max:g} s, {report.target.url} ({report.target.environment})"
    )
    result = Table(title=title, title_justify="left")
    result.add_column("SLO", no_wrap=True)
    result.add_column("target")
    result.add_column("measured")
    result.add_column("result", no_wrap=True)
    for v in report.verdicts:
        outcome = "[yellow]warn[/yellow]" if v.warning else "[green]pass[/green]" if v.passed else "[red]FAIL[/red]"
        name = v.slo if v.group == "objective" else f"{v.group}: {v.slo}"
        result.add_row(name, v.target, v.measured, outcome)
    return result


def print_summary(report: GateReport, console: Console) -> None:
    console.print(table(report))
    for failure in report.failures[:5]:
        console.print(f"  failed {failure.count}x {failure.endpoint}: {failure.error}", highlight=False)
    for v in report.verdicts:
        if v.warning:
            console.print(
                f"[yellow]warning:[/yellow] the load generator came close to its own limit ({v.measured}): it may "
                "have limited the load or added latency (docs/capacity.md#the-load-generator)",
                highlight=False,
            )


def markdown_table(report: GateReport) -> str:
    lines = ["| SLO | target | measured | result |", "|---|---|---|---|"]
    for v in report.verdicts:
        outcome = "warn" if v.warning else "pass" if v.passed else "**FAIL**"
        name = v.slo if v.group == "objective" else f"{v.group}: {v.slo}"
        lines.append(f"| {name} | {v.target} | {v.measured} | {outcome} |")
    return "\n".join(lines) + "\n"


def gate_markdown(report: GateReport) -> str:
    """report.md: the verdict table with what it was measured on, ready to paste into documentation."""
    load, machine, versions = report.load, report.machine, report.versions
    noisy = f" + {load.noisy_clients} noisy client" if load.noisy_clients else ""
    before = report.conditions.load_average_before or ["?"]
    lines = [
        f"**{report.scenario}: {'PASSED' if report.passed else 'FAILED'}** - {load.users} users{noisy}, "
        f"think {load.think_min:g}-{load.think_max:g} s, {load.duration_seconds:g} s measured after a "
        f"{load.ramp_up_seconds} s ramp-up; {report.target.environment} stack at {report.target.url}; "
        f"{report.date[:16].replace('T', ' ')} UTC",
        "",
        f"Measured on {machine.cpus} CPUs, {machine.memory_gib:g} GiB, kernel {machine.kernel}, Python "
        f"{machine.python}, locust {versions.locust}, load generator on the same machine; load average "
        f"{before[0]} before the run; commit {versions.commit}.",
        "",
        markdown_table(report),
    ]
    return "\n".join(lines)


def print_knee(result: KneeReport, console: Console) -> None:
    steps = Table(
        "users",
        "req/s",
        "tool calls/s",
        "tool-call p95",
        "health p95",
        "discovery p95",
        "success",
        "generator CPU",
        "gateway CPU",
        "within SLO",
        title="stress steps (each after settling)",
        title_justify="left",
    )
    for step in result.steps:
        kinds = step.kinds
        total = sum(k.requests for k in kinds.values())
        failed = sum(k.failures for k in kinds.values())
        gateway = step.containers_cpu_mean.get("mcpo")
        steps.add_row(
            str(step.users),
            f"{step.rps:.0f}",
            f"{step.tool_call_rps:.0f}",
            *(_p95(kinds, kind) for kind in ("tool-call", "health", "discovery")),
            f"{(total - failed) / total * 100:.2f}%" if total else "-",
            f"{step.generator_cpu_mean:.0f}%",
            "-" if gateway is None else f"{gateway:.0f}%",
            "[green]yes[/green]" if step.passed else "[red]no[/red]",
        )
    console.print(steps)
    knee = result.knee
    if knee.users is None:
        console.print("[red]no step was within every objective[/red]")
    else:
        beyond = (
            f"; at {knee.broken_at_users} users {', '.join(knee.broken) or 'the users'} missed the objectives"
            if knee.broken_at_users
            else " (the last step: the knee is further out)"
        )
        console.print(f"knee: {knee.users} users, {knee.rps:g} req/s ({knee.tool_call_rps:g} tool calls/s){beyond}")
    broken = next((step for step in result.steps if not step.passed), None)
    if broken is not None and broken.slowest_endpoint:
        slowest = broken.slowest_endpoint
        console.print(f"slowest endpoint at {broken.users} users: {slowest.endpoint}, p95 {slowest.p95_ms:.0f} ms")


def _p95(kinds: dict[str, Figures], kind: str) -> str:
    figures = kinds.get(kind)
    return "-" if figures is None or math.isnan(figures.p95_ms) else f"{figures.p95_ms:.0f} ms"
