"""The time tools as plain functions: zones, DST, offsets, and errors that name the bad argument."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from servers.timeserver.tools import TimeConversionResult, TimeResult, convert_time, get_current_time

SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)  # a Wednesday
WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # a Thursday


def offset_of(result: TimeResult) -> timedelta | None:
    return datetime.fromisoformat(result.datetime).utcoffset()


def wall_clock(result: TimeResult) -> str:
    """'YYYY-MM-DDTHH:MM' of a result, without seconds and offset."""
    return result.datetime[:16]


# --- get_current_time -------------------------------------------------------------------------


def test_current_time_in_a_zone_with_its_offset_and_weekday() -> None:
    result = get_current_time("Asia/Tokyo", now=SUMMER)
    assert result == TimeResult(
        timezone="Asia/Tokyo", datetime="2026-07-15T21:00:00+09:00", day_of_week="Wednesday", is_dst=False
    )


def test_datetime_is_iso_8601_with_seconds_precision() -> None:
    result = get_current_time("UTC", now=datetime(2026, 7, 15, 12, 34, 56, 789_000, tzinfo=UTC))
    assert result.datetime == "2026-07-15T12:34:56+00:00"
    assert datetime.fromisoformat(result.datetime).utcoffset() == timedelta(0)


@pytest.mark.parametrize(("now", "offset", "dst"), [(SUMMER, "-04:00", True), (WINTER, "-05:00", False)])
def test_daylight_saving_time_follows_the_date(now: datetime, offset: str, dst: bool) -> None:
    result = get_current_time("America/New_York", now=now)
    assert result.datetime.endswith(offset)
    assert result.is_dst is dst


def test_southern_hemisphere_summer_time_is_in_january() -> None:
    january = get_current_time("Australia/Sydney", now=WINTER)
    july = get_current_time("Australia/Sydney", now=SUMMER)
    assert (january.is_dst, offset_of(january)) == (True, timedelta(hours=11))
    assert (july.is_dst, offset_of(july)) == (False, timedelta(hours=10))


def test_half_hour_zone_offset() -> None:
    result = get_current_time("Asia/Kolkata", now=SUMMER)
    assert result.datetime == "2026-07-15T17:30:00+05:30"


def test_an_injected_moment_in_another_zone_is_converted_not_relabelled() -> None:
    tokyo_morning = datetime(2026, 7, 16, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    result = get_current_time("Europe/London", now=tokyo_morning)
    assert result.datetime == "2026-07-16T00:00:00+01:00"
    assert result.day_of_week == "Thursday"


def test_the_day_of_week_is_the_local_one() -> None:
    # 12:00 UTC on Wednesday is already Thursday in Kiritimati (UTC+14).
    assert get_current_time("Pacific/Kiritimati", now=SUMMER).day_of_week == "Thursday"
    assert get_current_time("Pacific/Pago_Pago", now=SUMMER).day_of_week == "Wednesday"


def test_the_requested_name_is_echoed_even_for_aliases() -> None:
    assert get_current_time("US/Eastern", now=SUMMER).timezone == "US/Eastern"


def test_the_real_clock_is_used_by_default() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    moment = datetime.fromisoformat(get_current_time("UTC").datetime)
    after = datetime.now(UTC)
    assert before <= moment <= after


# --- convert_time -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected_time", "difference"),
    [
        ("UTC", "12:00", "+0.0h"),
        ("Asia/Kolkata", "17:30", "+5.5h"),
        ("Asia/Tokyo", "21:00", "+9.0h"),
        ("America/Los_Angeles", "05:00", "-7.0h"),
        ("America/St_Johns", "09:30", "-2.5h"),
        ("Asia/Kathmandu", "17:45", "+5.75h"),
        ("Pacific/Chatham", "00:45", "+12.75h"),
    ],
)
def test_conversion_gives_target_time_and_difference(target: str, expected_time: str, difference: str) -> None:
    result = convert_time("UTC", "12:00", target, today=SUMMER)
    assert result.target.datetime[11:16] == expected_time
    assert result.time_difference == difference
    assert result.source.datetime == "2026-07-15T12:00:00+00:00"


def test_conversion_result_describes_both_sides() -> None:
    result = convert_time("Europe/Berlin", "09:15", "America/New_York", today=SUMMER)
    assert result == TimeConversionResult(
        source=TimeResult(
            timezone="Europe/Berlin", datetime="2026-07-15T09:15:00+02:00", day_of_week="Wednesday", is_dst=True
        ),
        target=TimeResult(
            timezone="America/New_York", datetime="2026-07-15T03:15:00-04:00", day_of_week="Wednesday", is_dst=True
        ),
        time_difference="-6.0h",
    )


@pytest.mark.parametrize(
    ("today", "difference", "target_time"), [(SUMMER, "+4.0h", "16:00"), (WINTER, "+5.0h", "17:00")]
)
def test_conversion_uses_the_dst_rules_of_the_given_day(today: datetime, difference: str, target_time: str) -> None:
    result = convert_time("America/New_York", "12:00", "UTC", today=today)
    assert result.time_difference == difference
    assert result.target.datetime[11:16] == target_time


def test_difference_changes_when_only_one_side_observes_dst() -> None:
    # Berlin and New York switch on different dates: in the March gap they are 5 hours apart, not 6.
    gap = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    assert convert_time("America/New_York", "12:00", "Europe/Berlin", today=gap).time_difference == "+5.0h"
    assert convert_time("America/New_York", "12:00", "Europe/Berlin", today=SUMMER).time_difference == "+6.0h"


@pytest.mark.parametrize(
    ("source", "target", "difference"),
    [
        ("Asia/Kolkata", "UTC", "-5.5h"),
        ("Asia/Kathmandu", "UTC", "-5.75h"),
        ("Asia/Tokyo", "America/New_York", "-13.0h"),
    ],
)
def test_negative_differences_keep_their_sign(source: str, target: str, difference: str) -> None:
    assert convert_time(source, "12:00", target, today=SUMMER).time_difference == difference


def test_conversion_across_midnight_moves_to_the_next_day() -> None:
    result = convert_time("America/Los_Angeles", "22:30", "Asia/Tokyo", today=SUMMER)
    assert wall_clock(result.source) == "2026-07-15T22:30"
    assert wall_clock(result.target) == "2026-07-16T14:30"
    assert (result.source.day_of_week, result.target.day_of_week) == ("Wednesday", "Thursday")


def test_conversion_across_midnight_moves_to_the_previous_day() -> None:
    result = convert_time("Asia/Tokyo", "01:00", "America/Los_Angeles", today=SUMMER)
    assert wall_clock(result.source) == "2026-07-15T01:00"
    assert wall_clock(result.target) == "2026-07-14T09:00"
    assert result.target.day_of_week == "Tuesday"


def test_today_means_the_date_in_the_source_zone() -> None:
    # 23:30 UTC on the 15th is already the 16th in Tokyo, so "today" there is the 16th.
    late_evening_utc = datetime(2026, 7, 15, 23, 30, tzinfo=UTC)
    result = convert_time("Asia/Tokyo", "10:00", "UTC", today=late_evening_utc)
    assert result.source.datetime == "2026-07-16T10:00:00+09:00"
    assert result.target.datetime == "2026-07-16T01:00:00+00:00"


def test_seconds_of_the_injected_day_do_not_leak_into_the_result() -> None:
    result = convert_time("UTC", "08:05", "UTC", today=datetime(2026, 7, 15, 12, 34, 56, 123, tzinfo=UTC))
    assert result.source.datetime == "2026-07-15T08:05:00+00:00"


@pytest.mark.parametrize("value", ["00:00", "23:59"])
def test_the_ends_of_the_day_are_valid_times(value: str) -> None:
    assert convert_time("UTC", value, "UTC", today=SUMMER).source.datetime[11:16] == value


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",
        "",
        " UTC",
        "utc",
        "Europe",
        "Europe/",
        "../etc/passwd",
        "/etc/localtime",
        "UTC\x00",
        pytest.param("a" * 300, id="300-chars"),
    ],
)
def test_invalid_timezone_is_a_tool_error_naming_argument_and_value(name: str) -> None:
    with pytest.raises(ToolError) as error:
        get_current_time(name)
    message = str(error.value)
    assert "Invalid timezone in 'timezone'" in message
    assert repr(name) in message
    assert "IANA" in message


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/localtime", "Europe/../UTC"])
def test_path_like_names_are_rejected_even_when_they_point_at_real_files(name: str) -> None:
    with pytest.raises(ToolError, match="is not an IANA timezone name"):
        convert_time(name, "12:00", "UTC", today=SUMMER)


def test_conversion_names_which_timezone_argument_is_wrong() -> None:
    with pytest.raises(ToolError, match="'target_timezone': 'Nowhere'"):
        convert_time("UTC", "12:00", "Nowhere", today=SUMMER)
    with pytest.raises(ToolError, match="'source_timezone': 'Nowhere'"):
        convert_time("Nowhere", "12:00", "UTC", today=SUMMER)


@pytest.mark.parametrize("value", ["25:00", "24:00", "12:60", "noon", "1230", "", "12:00:00", "-1:00", "12:00pm"])
def test_malformed_time_is_a_tool_error_naming_value_and_format(value: str) -> None:
    with pytest.raises(ToolError) as error:
        convert_time("UTC", value, "Asia/Tokyo", today=SUMMER)
    message = str(error.value)
    assert "Invalid time in 'time'" in message
    assert repr(value) in message
    assert "HH:MM" in message
