"""Time tools: pure functions over zoneinfo, with errors a model can act on."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field


class TimeResult(BaseModel):
    timezone: str = Field(description="IANA timezone name")
    datetime: str = Field(description="ISO 8601 timestamp with UTC offset, seconds precision")
    day_of_week: str
    is_dst: bool


class TimeConversionResult(BaseModel):
    source: TimeResult
    target: TimeResult
    time_difference: str = Field(description="target minus source offset, e.g. '+5.5h'")


def zone(name: str, argument: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: names zoneinfo refuses outright, such as absolute paths. OSError: names the tzdata
        # package resolves to something that is not a zone file (a directory such as "Europe", a name too
        # long for the file system).
        raise ToolError(
            f"Invalid timezone in '{argument}': {name!r} is not an IANA timezone name "
            "(examples: 'UTC', 'Europe/Berlin', 'America/New_York')"
        ) from None


def describe(moment: datetime, timezone_name: str) -> TimeResult:
    return TimeResult(
        timezone=timezone_name,
        datetime=moment.isoformat(timespec="seconds"),
        day_of_week=moment.strftime("%A"),
        is_dst=bool(moment.dst()),
    )


def get_current_time(timezone: str, now: datetime | None = None) -> TimeResult:
    tz = zone(timezone)
    moment = (now or datetime.now(tz)).astimezone(tz)
    return describe(moment, timezone)


def convert_time(
    source_timezone: str, time: str, target_timezone: str, today: datetime | None = None
) -> TimeConversionResult:
    source_tz = zone(source_timezone, "source_timezone")
    target_tz = zone(target_timezone, "target_timezone")
    try:
        parsed = datetime.strptime(time, "%H:%M")
    except ValueError:
        raise ToolError(f"Invalid time in 'time': {time!r}; expected 24-hour HH:MM, e.g. '14:30'") from None
    day = (today or datetime.now(source_tz)).astimezone(source_tz)
    source_moment = day.replace(hour=parsed.hour, minute=parsed.minute, second=0, microsecond=0)
    target_moment = source_moment.astimezone(target_tz)
    offset = (target_moment.utcoffset() or timedelta()) - (source_moment.utcoffset() or timedelta())
    hours = offset.total_seconds() / 3600
    difference = f"{hours:+.1f}h" if hours.is_integer() else f"{hours:+.2f}".rstrip("0") + "h"
    return TimeConversionResult(
        source=describe(source_moment, source_timezone),
        target=describe(target_moment, target_timezone),
        time_difference=difference,
    )
