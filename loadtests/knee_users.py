"""Knee finding (`mcpstack loadtest --scenario stress`, mcpstack/capacity/knee.py): the SLO scenario's users with a
short think time (a stress run, not the SLO load), in steps of more users - so more paced requests per second - until
a step misses an objective. Each step is judged on its requests after a settling time; the run stops after the first
step that breaks. The runner re-evaluates every step from the record and reports the knee: the last step within
every objective."""

from __future__ import annotations

import json
import os
import time

from locust import LoadTestShape

from loadtests.common import Chatting, recorder
from mcpstack.capacity.stats import KindObjective, judge_kinds

STEPS = [int(n) for n in os.environ.get("LOADTEST_STEPS", "10,25,50,100,150,200,300").split(",")]
STEP_SECONDS = float(os.environ.get("LOADTEST_STEP_SECONDS", "20"))
SETTLE_SECONDS = float(os.environ.get("LOADTEST_SETTLE_SECONDS", "5"))
SPAWN_RATE = float(os.environ.get("LOADTEST_SPAWN_RATE", "50"))
OBJECTIVES = {
    kind: KindObjective.from_json(objective)
    for kind, objective in json.loads(os.environ.get("LOADTEST_OBJECTIVES") or "{}").items()
}


class ChatUser(Chatting):
    pass


class Steps(LoadTestShape):
    current = -1

    def tick(self) -> tuple[int, float] | None:
        index = int(self.get_run_time() // STEP_SECONDS)
        if index != self.current:
            if self.current >= 0 and self._close_step():
                return None  # this step missed an objective: the knee is behind us
            if index >= len(STEPS):
                return None
            recorder.steps.append({"users": STEPS[index], "start": round(time.time(), 3)})
            self.current = index
        return STEPS[index], SPAWN_RATE

    def _close_step(self) -> bool:
        step = recorder.steps[-1]
        step["end"] = round(time.time(), 3)
        since = step["start"] + SETTLE_SECONDS
        judged = judge_kinds([r for r in recorder.requests if since <= r[0] < step["end"]], OBJECTIVES)
        step["broken"] = sorted(kind for kind, verdict in judged.items() if not verdict.passed)
        return bool(step["broken"])
