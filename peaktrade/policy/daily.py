"""The daily loss counters: which trading day it is, and the equity at that day's start.

A trading day starts at ``daily_reset_time`` in ``daily_reset_timezone`` (policies/risk-limits.yaml).
The first equity observed in a new trading day becomes that day's start equity, so a halt for the
daily loss lifts at the reset and not before.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.errors import UsageError


def parse_reset(timezone: str, reset_time: str) -> tuple[ZoneInfo, timedelta]:
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"policies/risk-limits.yaml: $.daily_reset_timezone: unknown time zone {timezone!r}") from None
    try:
        hh, mm = (int(x) for x in reset_time.split(":"))
        if not (0 <= hh < 24 and 0 <= mm < 60):
            raise ValueError
    except ValueError:
        raise UsageError(f"policies/risk-limits.yaml: $.daily_reset_time: {reset_time!r} is not HH:MM") from None
    return tz, timedelta(hours=hh, minutes=mm)


class DailyLossTracker:
    def __init__(self, timezone: str = "UTC", reset_time: str = "00:00", clock: Clock = SYSTEM_CLOCK):
        self.tz, self.offset = parse_reset(timezone, reset_time)
        self.clock = clock
        self.day: date | None = None
        self.day_start_equity: float | None = None

    @classmethod
    def for_limits(cls, limits, clock: Clock = SYSTEM_CLOCK) -> DailyLossTracker:
        return cls(limits.daily_reset_timezone, limits.daily_reset_time, clock)

    def trading_day(self, now: datetime | None = None) -> date:
        """The local wall-clock date shifted back by the reset time (reset 17:00 -> 16:59 is yesterday)."""
        local = (now or self.clock.now()).astimezone(self.tz)
        return (local.replace(tzinfo=None) - self.offset).date()

    def observe(self, equity: float) -> float:
        """Feed the current equity; returns the day's start equity (resetting when a new day began)."""
        day = self.trading_day()
        if day != self.day or self.day_start_equity is None:
            self.day, self.day_start_equity = day, equity
        return self.day_start_equity

    def loss(self, equity: float) -> float:
        return self.observe(equity) - equity
