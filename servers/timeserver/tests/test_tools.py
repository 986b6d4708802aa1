"""The time tools as plain functions: zones, DST, offsets, and errors that name the bad argument."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from servers.timeserver.tools import convert_time, get_current_time

SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_current_time_in_a_zone_with_its_offset_and_weekday() -> None:
    result = get_current_time("Asia/Tokyo", now=SUMMER)
    assert result.datetime == "2026-07-15T21:00:00+09:00"
    assert result.day_of_week == "Wednesday"
    assert result.timezone == "Asia/Tokyo"
    assert result.is_dst is False


@pytest.mark.parametrize(("now", "offset", "dst"), [(SUMMER, "-04:00", True), (WINTER, "-05:00", False)])
def test_daylight_saving_time_follows_the_date(now: datetime, offset: str, dst: bool) -> None:
    result = get_current_time("America/New_York", now=now)
    assert result.datetime.endswith(offset)
    assert result.is_dst is dst


def test_the_real_clock_is_used_by_default() -> None:
    moment = datetime.fromisoformat(get_current_time("UTC").datetime)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 5


@pytest.mark.parametrize(
    ("target", "expected_time", "difference"),
    [
        ("Asia/Kolkata", "17:30", "+5.5h"),
        ("Asia/Tokyo", "21:00", "+9.0h"),
        ("America/Los_Angeles", "05:00", "-7.0h"),
        ("Asia/Kathmandu", "17:45", "+5.75h"),
    ],
)
def test_conversion_gives_target_time_and_difference(target: str, expected_time: str, difference: str) -> None:
    result = convert_time("UTC", "12:00", target, today=SUMMER)
    assert result.target.datetime[11:16] == expected_time
    assert result.time_difference == difference
    assert result.source.datetime == "2026-07-15T12:00:00+00:00"


def test_conversion_across_midnight_changes_the_date() -> None:
    result = convert_time("America/Los_Angeles", "22:30", "Asia/Tokyo", today=SUMMER)
    assert result.source.datetime.startswith("2026-07-15T22:30")
    assert result.target.datetime.startswith("2026-07-16T14:30")
    assert result.target.day_of_week == "Thursday"


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "UTC\x00", "Europe/"])
def test_invalid_timezone_is_a_tool_error_naming_argument_and_value(name: str) -> None:
    with pytest.raises(ToolError) as error:
        get_current_time(name)
    assert "Invalid timezone in 'timezone'" in str(error.value)
    assert repr(name) in str(error.value)


def test_conversion_names_which_timezone_argument_is_wrong() -> None:
    with pytest.raises(ToolError, match="'target_timezone': 'Nowhere'"):
        convert_time("UTC", "12:00", "Nowhere")
    with pytest.raises(ToolError, match="'source_timezone': 'Nowhere'"):
        convert_time("Nowhere", "12:00", "UTC")


@pytest.mark.parametrize("value", ["25:00", "12:60", "noon", "1230", "", "12:00:00", "-1:00"])
def test_malformed_time_is_a_tool_error_with_the_expected_format(value: str) -> None:
    with pytest.raises(ToolError) as error:
        convert_time("UTC", value, "Asia/Tokyo")
    assert "Invalid time in 'time'" in str(error.value)
    assert "HH:MM" in str(error.value)
