"""What every capacity plot shares: colours, the legend's place, the figure style, a millisecond log axis, and the
dotted lines of the p95 objectives. Figures are drawn on matplotlib's object API (no pyplot state)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

COLOURS = {"tool-call": "#1f77b4", "discovery": "#2ca02c", "health": "#9467bd", "noisy": "#d62728"}
CPU_COLOURS = {"load generator": "#7f7f7f", "mcpo": "#ff7f0e", "sandbox": "#8c564b", "time": "#17becf"}
LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": 8, "borderaxespad": 0}
STYLE = {"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "axes.titleweight": "bold", "axes.titlesize": 11}


@contextmanager
def styled() -> Iterator[None]:
    """Figures made and saved inside share the capacity plots' style."""
    with mpl.rc_context(STYLE):
        yield


def save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def ms(value: float, _: Any = None) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"


def ms_axis(axis: Any, which: str = "y", decades: float = 3.0) -> None:
    """A log scale in milliseconds, labelled 1 ms, 10 ms, 100 ms, 1 s - with 2 and 5 between them when the axis spans
    two decades or less - and no crowded minor labels."""
    target = axis.yaxis if which == "y" else axis.xaxis
    (axis.set_yscale if which == "y" else axis.set_xscale)("log")
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2.2 else (1.0,)))
    target.set_major_formatter(FuncFormatter(ms))
    target.set_minor_formatter(NullFormatter())


def objective_lines(
    axis: Any, objectives: Mapping[str, float | None], horizontal: bool = True, left: bool = False
) -> None:
    """One dotted line per distinct p95 objective, labelled with the kinds it applies to ({kind: p95 ms or None})."""
    values: dict[float, list[str]] = {}
    for kind, value in objectives.items():
        if value:
            values.setdefault(value, []).append(kind)
    for value, names in sorted(values.items()):
        colour = COLOURS[names[0]] if len(names) == 1 else "#333333"
        label = f"p95 objective {ms(value)}: {', '.join(names)}"
        if horizontal:
            axis.axhline(value, color=colour, ls=":", lw=1.6)
            axis.annotate(
                label, (0.005 if left else 0.995, value), xycoords=("axes fraction", "data"),
                ha="left" if left else "right", va="bottom", color=colour,
                fontsize=8.5,
            )  # fmt: skip
        else:
            axis.axvline(value, color=colour, ls=":", lw=2, label=label)
