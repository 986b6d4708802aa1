from mcpstack.observability.snapshot import legend_of


def test_legend_format_is_filled_with_the_series_labels() -> None:
    assert legend_of("{{route}}/{{ tool }}", {"route": "time", "tool": "get_current_time"}) == "time/get_current_time"
    assert legend_of("p95", {}) == "p95"
    assert legend_of("", {"job": "time"}) == "{'job': 'time'}"
