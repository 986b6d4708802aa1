"""PNG charts of a dashboard's panels, drawn from Prometheus' range queries: a look at the platform's
health without a Grafana (e.g. after a load test)."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import matplotlib

matplotlib.use("Agg")  # no display
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, PercentFormatter

from mcpstack.observability.promql import GRAFANA_VARIABLES, panels

POINTS = 240
LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Series:
    label: str
    times: list[datetime]
    values: list[float]


class SnapshotError(RuntimeError):
    pass


def query_range(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    try:
        response = httpx.get(
            f"{prometheus}/api/v1/query_range",
            timeout=30,
            params={"query": expr, "start": start, "end": end, "step": step},
        )
    except httpx.HTTPError as exc:
        raise SnapshotError(f"cannot reach Prometheus at {prometheus}: {exc}") from None
    if response.status_code != 200:
        raise SnapshotError(f"Prometheus refused {expr!r}: {response.text[:300]}")
    return response.json()["data"]["result"]


def legend_of(template: str, labels: dict[str, str]) -> str:
    """Grafana's legend format ("{{route}}") filled with a series' labels."""
    return LEGEND.sub(lambda match: labels.get(match.group(1), ""), template) or str(labels)


def panel_series(prometheus: str, panel: dict[str, Any], start: float, end: float, step: float) -> list[Series]:
    found = []
    for target in panel.get("targets", []):
        for result in query_range(prometheus, target["expr"], start, end, step):
            labels = result.get("metric", {})
            legend = legend_of(target.get("legendFormat") or "", labels)
            points = [(datetime.fromtimestamp(float(t), UTC), float(v)) for t, v in result["values"]]
            found.append(Series(legend, [p[0] for p in points], [p[1] for p in points]))
    return found


def _format_axis(axis: Any, unit: str | None) -> None:
    if unit == "percentunit":
        axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    elif unit == "s":
        axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 1000:.0f} ms" if v < 1 else f"{v:.1f} s"))
        axis.set_ylabel("latency")
    elif unit == "bytes":
        axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 2**20:.0f} MiB"))
    elif unit == "reqps":
        axis.set_ylabel("per second")
    locator = mdates.AutoDateLocator(tz=UTC)  # seconds on short periods, no repeated "16:24" ticks
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    axis.grid(True, alpha=0.3)


def draw(axis: Any, title: str, series: list[Series], unit: str | None, window: tuple[datetime, datetime]) -> None:
    axis.set_title(title, fontsize=10, loc="left")
    axis.set_xlim(*window)  # every chart spans the whole period, even where a series starts late
    shown = [s for s in series if any(not math.isnan(v) for v in s.values)]
    if not shown:
        axis.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=axis.transAxes, color="grey")
    for item in shown[:12]:
        axis.plot(item.times, item.values, label=item.label, linewidth=1.4)
    if shown:
        axis.legend(fontsize=7, loc="upper left", framealpha=0.7)
    _format_axis(axis, unit)


def snapshot(
    prometheus: str, dashboard: dict[str, Any], out_dir: Path, minutes: float = 30, now: float | None = None
) -> list[Path]:
    """One PNG per panel plus `<uid>.png` with every panel, for the last `minutes`; returns the files."""
    end = now or time.time()
    start = end - minutes * 60
    step = max(5.0, minutes * 60 / POINTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = [
        (panel, panel_series(prometheus, panel, start, end, step))
        for panel in panels(dashboard)
        if panel.get("targets")
    ]
    files = []
    stamp = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M UTC")
    window = (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
    for panel, series in drawn:
        figure, axis = plt.subplots(figsize=(9, 4.2), dpi=110)
        draw(axis, panel["title"], series, panel.get("fieldConfig", {}).get("defaults", {}).get("unit"), window)
        figure.text(
            0.99, 0.01, f"{dashboard['title']} - {minutes:g} min to {stamp}", ha="right", fontsize=7, color="grey"
        )
        figure.tight_layout()
        path = out_dir / f"{dashboard['uid']}-{panel['id']:02d}.png"
        figure.savefig(path)
        plt.close(figure)
        files.append(path)
    columns = 2
    rows = math.ceil(len(drawn) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(16, 3.6 * rows), dpi=90, squeeze=False)
    for index, (panel, series) in enumerate(drawn):
        draw(
            axes[index // columns][index % columns],
            panel["title"],
            series,
            panel.get("fieldConfig", {}).get("defaults", {}).get("unit"),
            window,
        )
    for index in range(len(drawn), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.suptitle(f"{dashboard['title']} - last {minutes:g} minutes to {stamp}", fontsize=13)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.4 / rows))
    overview = out_dir / f"{dashboard['uid']}.png"
    figure.savefig(overview)
    plt.close(figure)
    return [overview, *files]
