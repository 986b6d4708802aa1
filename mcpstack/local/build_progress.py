"""Progress of an image build: the Dockerfile step being run. On a terminal, a spinner with the current step
(and the seconds so far); in a pipe or a log, one line per step instead, so nothing is silent for minutes."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.status import Status

STEP = re.compile(r"^Step (\d+/\d+) : (.*)$")  # the classic builder's stream lines
WIDTH = 100  # of a step's text in one line


class BuildProgress:
    def __init__(self, ref: str, log: Callable[[str], None], console: Console | None = None) -> None:
        self._ref = ref
        self._log = log
        self._console = console or Console(file=sys.stderr)
        self._status: Status | None = None
        self._started = time.monotonic()
        self.steps: list[str] = []

    def start(self) -> BuildProgress:
        if self._console.is_terminal:
            self._status = self._console.status(f"building {self._ref}")
            self._status.start()
        return self

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def line(self, text: str) -> None:
        """One line of the build's output; a step line moves the progress on."""
        match = STEP.match(text.strip())
        if match is None:
            return
        step = f"{self._ref}: step {match[1]}: {match[2][:WIDTH]}"
        self.steps.append(step)
        if self._status is not None:
            self._status.update(f"{step} ({time.monotonic() - self._started:.0f} s)")
        else:
            self._log(step)
