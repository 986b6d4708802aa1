"""What the real-user load run reads from the gateway: per client/tenant requests and per tool mean latency, as
deltas of two /metrics texts (only 200 answers count for latency)."""

from __future__ import annotations

from mcpstack.capacity.webui_load import gateway_view, metric_samples

BEFORE = """# HELP gateway_client_requests_total Authenticated requests by client (API key name)
gateway_client_requests_total{client="open-webui",tenant="tool-catalog"} 10.0
gateway_request_duration_seconds_sum{route="time",status="200",tool="get_current_time"} 1.0
gateway_request_duration_seconds_count{route="time",status="200",tool="get_current_time"} 100.0
"""
AFTER = """gateway_client_requests_total{client="open-webui",tenant="tool-catalog"} 16.0
gateway_client_requests_total{client="open-webui",tenant="staff"} 2.0
gateway_request_duration_seconds_sum{route="time",status="200",tool="get_current_time"} 1.016
gateway_request_duration_seconds_count{route="time",status="200",tool="get_current_time"} 102.0
gateway_request_duration_seconds_sum{route="sandbox",status="403",tool="execute_python"} 0.5
gateway_request_duration_seconds_count{route="sandbox",status="403",tool="execute_python"} 1.0
gateway_requests_in_flight 3.0
"""


def test_the_gateway_view_is_the_runs_delta() -> None:
    view = gateway_view(BEFORE, AFTER)
    assert view.client_requests == {"open-webui/staff": 2.0, "open-webui/tool-catalog": 6.0}
    assert view.mean_latency_ms == {"time/get_current_time": 8.0}  # 16 ms over 2 calls; the 403 is left out


def test_samples_keep_their_labels_and_skip_comments() -> None:
    samples = metric_samples(AFTER)
    key = ("gateway_client_requests_total", frozenset({("client", "open-webui"), ("tenant", "staff")}))
    assert samples[key] == 2.0
    assert not [name for name, _ in samples if name.startswith("#") or name == "gateway_requests_in_flight"]
