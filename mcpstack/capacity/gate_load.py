"""The load of one gate run: the catalog's `slos.load`, with the command line's overrides (users, measured
duration, spawn rate, think time), and the parsing of those overrides."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcpstack.catalog.models import Slos

SCENARIOS = {"slo": "slo_users.py", "rate-limit": "rate_limit_users.py"}  # scenario -> its locustfile (loadtests/)


def seconds(duration: str | float) -> float:
    """'60s', '2m', '1h', '90' -> seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*", duration)
    if not match:
        raise ValueError(f"not a duration: {duration!r} (e.g. 30s, 2m)")
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    return float(match.group(1)) * factor


def think_range(value: str | tuple[float, float]) -> tuple[float, float]:
    """'8-16' or (8, 16) -> (8.0, 16.0): a user's pause between two calls, drawn uniformly."""
    if isinstance(value, tuple):
        low, high = value
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*-\s*([0-9]+(?:\.[0-9]+)?)\s*", value)
        if not match:
            raise ValueError(f"not a think time range: {value!r} (e.g. 8-16, in seconds)")
        low, high = float(match.group(1)), float(match.group(2))
    if high < low:
        raise ValueError(f"think time range {low:g}-{high:g}: the maximum is below the minimum")
    return float(low), float(high)


@dataclass(frozen=True)
class GateLoad:
    """The load of one gate run: the catalog's `slos.load`, with the command line's overrides."""

    scenario: str
    users: int
    noisy: int
    measured: float
    spawn_rate: float
    think_min: float
    think_max: float

    @property
    def total(self) -> int:
        return self.users + self.noisy

    @classmethod
    def of(
        cls,
        slos: Slos,
        scenario: str = "slo",
        users: int | None = None,
        duration: str | float | None = None,
        spawn_rate: float | None = None,
        think: str | tuple[float, float] | None = None,
    ) -> GateLoad:
        if scenario not in SCENARIOS:
            raise ValueError(f"no such scenario: {scenario!r} (one of {', '.join(SCENARIOS)})")
        low, high = (
            think_range(think)
            if think is not None
            else (slos.load.think_time_seconds.min, slos.load.think_time_seconds.max)
        )
        return cls(
            scenario,
            users or slos.load.users,
            1 if scenario == "rate-limit" else 0,
            seconds(duration if duration is not None else slos.load.duration),
            spawn_rate or slos.load.spawn_rate,
            low,
            high,
        )
