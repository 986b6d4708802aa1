"""A short load run of real Open WebUI users against a local stack (loadtests/webui_users.py), and its figures.

The users are ordinary Open WebUI accounts the run creates with the admin's password (the stack's secret) and
deletes afterwards; they chat through Open WebUI, which calls the gateway with its own key and each user signed.
The figures: per tool, the chat turns started in the measured window (after every user started) as a person waits
for them (exact percentiles), and what the gateway saw meanwhile - its requests per client and tenant and its own
mean latency per tool (its /metrics before and after), so the gateway's share of a turn is known; written as
report.json and report.md. `mcpstack loadtest --scenario webui-users` runs it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mcpstack.capacity.locust_run import LoadTestError, Log, Target, run_locust
from mcpstack.capacity.record import LocustRun
from mcpstack.capacity.report import write_report
from mcpstack.capacity.stats import Figures, by_endpoint, in_window, summary
from mcpstack.catalog.models import GatewayService, LlmService, OpenWebUIService
from mcpstack.local.stack import LocalStack

LOCUSTFILE = "webui_users.py"
MAX_USERS = 50  # loadtests/webui_users.py MAX_ACCOUNTS: one account per user
TAIL_SECONDS = 15  # after the measured window: turns started in it finish (one still open then is a failure)
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+-]+)$")
LABEL = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class GatewayView:
    """What the gateway counted during the run (deltas of its /metrics)."""

    client_requests: dict[str, float]  # "client/tenant" -> requests
    mean_latency_ms: dict[str, float]  # "route/tool" -> mean latency of its 200 answers

    def to_json(self) -> dict[str, Any]:
        return {"client_requests": self.client_requests, "mean_latency_ms": self.mean_latency_ms}


@dataclass(frozen=True)
class WebUILoad:
    users: int
    seconds: float
    chats: dict[str, Figures]  # "chat/ROUTE/TOOL" -> the chat turns that called it
    gateway: GatewayView
    run: LocustRun

    @property
    def failures(self) -> int:
        """Chat turns that failed (an error, no answer, or an answer without the tool's own result)."""
        return sum(figures.failures for figures in self.chats.values()) + len(self.run.record.errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.failures == 0,
            "users": self.users,
            "seconds": self.seconds,
            "chats": {name: figures.to_json() for name, figures in self.chats.items()},
            "gateway": self.gateway.to_json(),
            "errors": self.run.record.errors,
        }


def metric_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text format -> (name, labels) -> value, for the samples that carry labels."""
    samples = {}
    for line in text.splitlines():
        found = SAMPLE.match(line)
        if found:
            labels = frozenset(LABEL.findall(found["labels"]))
            samples[(found["name"], labels)] = float(found["value"])
    return samples


def gateway_view(before: str, after: str) -> GatewayView:
    """The gateway's requests per client/tenant and mean latency per route/tool between two /metrics texts."""
    old, new = metric_samples(before), metric_samples(after)
    delta = {key: value - old.get(key, 0.0) for key, value in new.items() if value - old.get(key, 0.0) > 0}
    requests: dict[str, float] = defaultdict(float)
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, float] = defaultdict(float)
    for (name, labels), value in delta.items():
        label = dict(labels)
        if name == "gateway_client_requests_total":
            requests[f"{label['client']}/{label['tenant']}"] += value
        elif name in ("gateway_request_duration_seconds_sum", "gateway_request_duration_seconds_count"):
            if label.get("status") != "200":
                continue
            target = sums if name.endswith("_sum") else counts
            target[f"{label['route']}/{label['tool']}"] += value
    means = {tool: round(sums[tool] / counts[tool] * 1000, 1) for tool in sorted(counts) if counts[tool]}
    return GatewayView(dict(sorted(requests.items())), means)


def run_webui_load(stack: LocalStack, report_dir: Path, *, users: int, seconds: float, log: Log) -> WebUILoad:
    """`users` real Open WebUI accounts chatting with tools for `seconds` (after they all started)."""
    if not 1 <= users <= MAX_USERS:
        raise ValueError(f"give 1 to {MAX_USERS} users (one Open WebUI account each)")
    catalog = stack.catalog
    webui_name, webui = next((n, s) for n, s in catalog.services.items() if isinstance(s, OpenWebUIService))
    llm = catalog.services[webui.open_webui.llm]
    assert isinstance(llm, LlmService)
    gateway = catalog.services[webui.open_webui.gateway]
    assert isinstance(gateway, GatewayService)
    password = next(ref.secret for ref in webui.secrets if ref.env == "WEBUI_ADMIN_PASSWORD")
    metrics_url = f"{stack.url(webui.open_webui.gateway)}/metrics"
    gateway_key = stack.secrets.value(gateway.gateway.clients[webui.open_webui.gateway_client].secret)
    auth = {"Authorization": f"Bearer {gateway_key}"}
    environment = {
        "LOADTEST_WEBUI_ADMIN_EMAIL": webui.env["WEBUI_ADMIN_EMAIL"],
        "LOADTEST_WEBUI_ADMIN_PASSWORD": stack.secrets.value(password),
        "LOADTEST_WEBUI_MODEL": llm.llm.models[0],
        "LOADTEST_WEBUI_ACCOUNTS": str(users),
        "LOADTEST_STOP_AFTER": f"{seconds + TAIL_SECONDS:g}",
    }
    target = Target(stack.url(webui_name), "", catalog, stack.name)
    before = httpx.get(metrics_url, headers=auth, timeout=10).text
    spawn_rate = max(1.0, users / 5)
    run = run_locust(
        LOCUSTFILE,
        target,
        report_dir,
        users=users,
        spawn_rate=spawn_rate,
        seconds=seconds + users / spawn_rate + TAIL_SECONDS + 30,  # ramp-up, measured time, tail, account set-up
        environment=environment,
        log=log,
    )
    after = httpx.get(metrics_url, headers=auth, timeout=10).text
    if not run.record.spawned:
        raise LoadTestError(f"the users never all started; see {report_dir / 'locust.log'}")
    start = run.record.spawned[0][0]
    measured = in_window(run.record.requests, start, start + seconds)
    chats = {name: summary(rows, seconds) for name, rows in by_endpoint(measured).items()}
    load = WebUILoad(users, seconds, chats, gateway_view(before, after), run)
    write_report(load, report_dir, table(load) + "\n")
    return load


def table(load: WebUILoad) -> str:
    """The figures as the Markdown table docs/capacity.md records."""
    lines = [
        "| chat turn with | turns | failed | p50 ms | p95 ms | p99 ms | max ms | gateway mean ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in load.chats.items():
        tool = name.removeprefix("chat/")
        gateway_ms = load.gateway.mean_latency_ms.get(tool, math.nan)
        lines.append(
            f"| {tool} | {figures.requests} | {figures.failures} | {figures.p50_ms:.0f} | {figures.p95_ms:.0f} "
            f"| {figures.p99_ms:.0f} | {figures.max_ms:.0f} | {gateway_ms:.1f} |"
        )
    return "\n".join(lines)
