"""Drives wrk (C, from Debian) against one HTTP endpoint and reads its latency percentiles as JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# wrk calls done() once at the end; latency percentiles are in microseconds.
SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '\\nRESULT {{"requests": %d, "non_2xx": %d, "socket_errors": %d, "seconds": %.3f, '
    .. '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}}\\n',
    summary.requests, summary.errors.status, errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


@dataclass(frozen=True)
class Measurement:
    requests: int
    non_2xx: int
    socket_errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, float]:
        return {**asdict(self), "rps": round(self.rps, 1)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Measurement:
        return cls(**{k: v for k, v in doc.items() if k != "rps"})


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (apt-get install wrk; scripts/bootstrap.sh does)")
    return found


def run(url: str, body: str, headers: dict[str, str], connections: int, seconds: float) -> Measurement:
    header_lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SCRIPT.format(body=json.dumps(body), headers=header_lines))
    try:
        threads = 1 if connections < 4 else 2
        done = subprocess.run(
            [
                wrk_path(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {done.returncode}): {done.stderr.strip() or done.stdout[-500:]}")
    return Measurement(**json.loads(line.removeprefix("RESULT ")))
