"""What a locust run leaves, typed: the recorded runs read as LocustRun, and written back in the same format."""

from __future__ import annotations

from mcpstack.capacity.record import LocustRun, Record, Sample, StepMark
from tests.capacity.conftest import recorded_document, recorded_run


def test_a_recorded_run_reads_as_typed_records_and_samples() -> None:
    doc = recorded_document("slo-100-users")
    run = recorded_run("slo-100-users")
    assert len(run.record.requests) == len(doc["record"]["requests"])
    assert run.record.spawned[0] == tuple(doc["record"]["spawned"][0])
    assert run.samples[0] == Sample.from_json(doc["samples"][0])
    assert run.samples[0].containers["mcpo"] == doc["samples"][0]["containers"]["mcpo"]
    assert (run.started, run.ended, run.exit_code) == (doc["started"], doc["ended"], doc["exit_code"])


def test_a_run_writes_back_what_it_read() -> None:
    doc = recorded_document("rate-limit-100-users")
    written = recorded_run("rate-limit-100-users").to_json()
    assert written["record"] == doc["record"]
    assert written["samples"] == doc["samples"]
    assert LocustRun.from_json(written) == recorded_run("rate-limit-100-users")


def test_each_run_is_a_fresh_copy() -> None:
    changed = recorded_run("slo-100-users")
    changed.record.requests[0][2] = 99999.0
    changed.samples.clear()
    fresh = recorded_run("slo-100-users")
    assert fresh.record.requests[0][2] != 99999.0
    assert fresh.samples


def test_knee_steps_as_the_locustfile_marks_them() -> None:
    doc = {
        "requests": [],
        "users": [[1.0, 25]],
        "spawned": [[1.0, 25]],
        "steps": [{"users": 25, "start": 1.0, "end": 21.0, "broken": []}, {"users": 50, "start": 21.0}],
        "errors": [],
    }
    record = Record.from_json(doc)
    assert record.steps == [StepMark(25, 1.0, 21.0, ()), StepMark(50, 21.0)]
    assert record.to_json() == doc
