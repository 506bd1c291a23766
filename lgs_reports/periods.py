"""Report periods: parsing ``2011``, ``2011-Q4``, ``2011-11``, and what each is compared with.

A period is a calendar year, quarter or month. It knows its comparison
periods (the same period a year earlier; for a month also the month before),
its 24-month trend window, and, against the data's window, whether the data
ends (or starts) inside it.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re

from lgs_reports.errors import PeriodError

ACCEPTED = "accepted forms: 2011 (a year), 2011-Q4 (a quarter), 2011-11 (a month)"
TREND_MONTHS = 24


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclasses.dataclass(frozen=True)
class Period:
    kind: str  # year, quarter or month
    start: dt.date  # first day
    end: dt.date  # last day (inclusive)

    @property
    def label(self) -> str:
        """The form the user types and the archive folder's name: 2011, 2011-Q4, 2011-11."""
        if self.kind == "year":
            return f"{self.start.year}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    @property
    def title(self) -> str:
        """How people write it: 2011, Q4 2011, November 2011."""
        if self.kind == "year":
            return self.label
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{self.start:%B %Y}"

    @property
    def end_exclusive(self) -> dt.date:
        return self.end + dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> int:
        return {"year": 12, "quarter": 3, "month": 1}[self.kind]

    def shifted(self, months: int) -> Period:
        start = add_months(self.start, months)
        return Period(self.kind, start, add_months(start, self.months) - dt.timedelta(days=1))

    def year_before(self) -> Period:
        return self.shifted(-12)

    def before(self) -> Period:
        """The period just before this one (previous month, quarter or year)."""
        return self.shifted(-self.months)

    def comparisons(self) -> list[tuple[str, Period]]:
        """What the period is compared with: ``yoy`` always, ``mom`` for a month."""
        result = [("yoy", self.year_before())]
        if self.kind == "month":
            result.append(("mom", self.before()))
        return result

    @property
    def trend_start(self) -> dt.date:
        """First day of the 24 months that end with the period's last month."""
        return add_months(self.end.replace(day=1), 1 - TREND_MONTHS)


def parse_period(text: str) -> Period:
    """``2011`` / ``2011-Q4`` / ``2011-11`` (also ``2011q4``); PeriodError otherwise."""
    value = text.strip()
    if match := re.fullmatch(r"(\d{4})", value):
        year = int(match.group(1))
        return (
            Period("year", dt.date(year, 1, 1), dt.date(year, 12, 31)) if _ok(year) else _bad(text)
        )
    if match := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", value):
        year, quarter = int(match.group(1)), int(match.group(2))
        if not _ok(year):
            _bad(text)
        start = dt.date(year, 3 * quarter - 2, 1)
        return Period("quarter", start, add_months(start, 3) - dt.timedelta(days=1))
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        year, month = int(match.group(1)), int(match.group(2))
        if not _ok(year) or not 1 <= month <= 12:
            _bad(text)
        last = calendar.monthrange(year, month)[1]
        return Period("month", dt.date(year, month, 1), dt.date(year, month, last))
    return _bad(text)


def _ok(year: int) -> bool:
    return 1900 <= year <= 2999


def _bad(text: str) -> Period:
    raise PeriodError(f"period {text!r} is not a period; {ACCEPTED}")


def latest_complete_month(last_transaction: dt.datetime) -> Period:
    """The default period: the last month that the data covers to its last day."""
    day = last_transaction.date()
    month = parse_period(f"{day:%Y-%m}")
    return month if day == month.end else month.before()


@dataclasses.dataclass(frozen=True)
class Coverage:
    """How much of a period the data covers."""

    period: Period
    first_data: dt.datetime
    last_data: dt.datetime

    @property
    def data_start(self) -> dt.date:
        return max(self.period.start, self.first_data.date())

    @property
    def data_end(self) -> dt.date:
        return min(self.period.end, self.last_data.date())

    @property
    def covered_days(self) -> int:
        return max(0, (self.data_end - self.data_start).days + 1)

    @property
    def partial(self) -> bool:
        """The data ends (or starts) inside the period."""
        return self.covered_days < self.period.days

    @property
    def ends_inside(self) -> bool:
        return self.last_data.date() < self.period.end

    @property
    def last_month_days(self) -> tuple[int, int] | None:
        """(days with data, days) of the period's last month when the data ends inside it."""
        if not self.ends_inside or self.last_data.date() < self.period.start:
            return None
        day = self.last_data.date()
        return day.day, calendar.monthrange(day.year, day.month)[1]

    @property
    def snapshot(self) -> dt.date:
        """The RFM snapshot: the day after the period, or after the last transaction."""
        return min(self.period.end, self.last_data.date()) + dt.timedelta(days=1)

    @property
    def note(self) -> str | None:
        """``data through 9 Dec 2011: December has 9 of 31 days`` for a partial period."""
        if not self.partial:
            return None
        parts = []
        if self.ends_inside and self.last_month_days:
            covered, total = self.last_month_days
            day = self.last_data.date()
            parts.append(
                f"data through {day.day} {day:%b %Y}: {day:%B} has {covered} of {total} days"
            )
        if self.first_data.date() > self.period.start:
            first = self.first_data.date()
            parts.append(f"data from {first.day} {first:%b %Y}")
        if self.period.kind != "month":
            parts.append(f"{self.period.title} has {self.covered_days} of {self.period.days} days")
        return "; ".join(parts)

    def like_for_like(self, other: Period) -> Period:
        """``other`` cut to the same days of the period that the data covers.

        A partial 2011 (data through 9 Dec) is compared with 1 Jan - 9 Dec 2010,
        not with the whole of 2010, so that a missing three weeks never reads as
        a collapse. A complete period is compared with the whole of ``other``.
        """
        if not self.partial:
            return other
        offset_start = (self.data_start - self.period.start).days
        offset_end = (self.data_end - self.period.start).days
        start = other.start + dt.timedelta(days=offset_start)
        end = min(other.end, other.start + dt.timedelta(days=offset_end))
        return Period(other.kind, start, end)
