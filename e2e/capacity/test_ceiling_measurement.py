"""The load generator's own ceiling (`mcpstack bench loadgen`): one locust process, closed loop, against the trivial
local endpoint (loadtests/trivial_server.py) - short here (~10 s); the figures in docs/capacity.md come from the full
command. No Docker; 127.0.0.1 only."""

from __future__ import annotations

import json
from pathlib import Path

from mcpstack.capacity.ceiling import CeilingReport, load_ceiling, measure_ceiling


def test_one_locust_process_saturates_before_the_trivial_endpoint(tmp_path: Path) -> None:
    kept = tmp_path / "ceiling.json"
    result = measure_ceiling(tmp_path / "report", users=(10,), seconds=6, log=lambda _: None, ceiling_file=kept)
    (run,) = result.runs
    assert run.failures == 0
    assert run.rps > 500  # thousands on the 2-core CI machines; far above any gate run's ~40 req/s
    assert run.cpu > 50  # the load generator is what is busy ...
    assert run.server_cpu < run.cpu  # ... not the endpoint
    assert result.ceiling.rps == run.rps
    assert load_ceiling(kept) == result.ceiling  # where gate runs read it
    written = json.loads((tmp_path / "report" / "report.json").read_text())
    assert CeilingReport.from_json(written) == result
