"""Image build progress: one line per Dockerfile step when stderr is not a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from mcpstack.local.build_progress import BuildProgress


def test_one_line_per_step_when_not_a_terminal() -> None:
    logged: list[str] = []
    progress = BuildProgress("mcpstack/x:1", logged.append, Console(file=io.StringIO())).start()
    for line in [
        "Step 1/3 : FROM base",
        " ---> abc",
        "Step 2/3 : RUN pip install x",
        "Collecting x",
        "Step 3/3 : USER 1",
    ]:
        progress.line(line)
    progress.stop()
    assert logged == [
        "mcpstack/x:1: step 1/3: FROM base",
        "mcpstack/x:1: step 2/3: RUN pip install x",
        "mcpstack/x:1: step 3/3: USER 1",
    ]


def test_a_terminal_gets_a_spinner_not_lines() -> None:
    logged: list[str] = []
    terminal = Console(file=io.StringIO(), force_terminal=True)
    progress = BuildProgress("mcpstack/x:1", logged.append, terminal).start()
    progress.line("Step 1/2 : FROM base")
    progress.stop()
    assert logged == []
    assert progress.steps == ["mcpstack/x:1: step 1/2: FROM base"]
