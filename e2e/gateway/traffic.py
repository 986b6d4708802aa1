"""Background callers of one gateway route that record every call, for the suites that break something while
normal traffic flows: free-running workers (Traffic) or a fixed rate of calls per second (PacedTraffic)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import httpx

from e2e.gateway.conftest import Gateway


class Traffic:
    """Background callers of one route, recording (seconds since start, status, duration) per call."""

    def __init__(self, gw: Gateway, path: str, body: dict, workers: int = 3, pause: float = 0.05) -> None:
        self.gw, self.path, self.body, self.pause = gw, path, body, pause
        self.results: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(workers)]
        self.started = time.monotonic()

    def _next_pause(self, worker: int, calls: int) -> float:
        return self.pause

    def _run(self, worker: int) -> None:
        calls = 0
        with httpx.Client(headers={**self.gw.headers(), "Content-Type": "application/json"}, timeout=15) as http:
            while not self._stop.is_set():
                began = time.monotonic()
                try:
                    status = http.post(self.gw.url + self.path, json=self.body).status_code
                except httpx.HTTPError:
                    status = 0
                self.results.append((began - self.started, status, time.monotonic() - began))
                calls += 1
                self._stop.wait(self._next_pause(worker, calls))

    def __enter__(self) -> Traffic:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=20)

    def statuses(self, after: float = 0.0, before: float = float("inf")) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for at, status, _ in self.results:
            if after <= at < before:
                counts[status] += 1
        return dict(counts)

    def rate(self) -> float:
        """Calls per second over the run."""
        if not self.results:
            return 0.0
        return len(self.results) / max(0.001, *(at + d for at, _, d in self.results))


class PacedTraffic(Traffic):
    """`per_second` calls a second in all, spread over the workers, each worker on its own fixed schedule."""

    def __init__(self, gw: Gateway, path: str, body: dict, per_second: float, workers: int = 10) -> None:
        super().__init__(gw, path, body, workers)
        self.interval = workers / per_second

    def _next_pause(self, worker: int, calls: int) -> float:
        due = self.started + (worker / len(self._threads) + calls) * self.interval
        return max(0.0, due - time.monotonic())
