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


def month_index(day: dt.date) -> int:
    """Months since year 0: the difference of two is the number of months between them."""
    return day.year * 12 + day.month - 1


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = month_index(day) + months
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


def lookback_months(first_data: dt.datetime | dt.date, day: dt.date) -> int:
    """Calendar months from the first transaction's month to ``day``'s month (Dec 2009 to
    Jan 2010: 1): how far back a customer's "first order" can be seen from ``day``."""
    return max(0, month_index(day) - month_index(first_data))


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` calendar months earlier (the last day if shorter)."""
    first = add_months(moment.date().replace(day=1), -months)
    last_day = calendar.monthrange(first.year, first.month)[1]
    return dt.datetime.combine(first.replace(day=min(moment.day, last_day)), moment.time())


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


@dataclasses.dataclass(frozen=True)
class Span:
    """The instants a total is computed over: ``start`` up to, not including, ``end``."""

    name: str  # current, yoy, mom (or trailing, trailing_before)
    title: str  # how the brief names it: "2010", "1 Jan – 9 Dec 2010"
    start: dt.datetime
    end: dt.datetime  # the first instant after the span

    @property
    def binds(self) -> dict[str, dt.datetime]:
        return {"start": self.start, "end": self.end}

    @property
    def last_day(self) -> dt.date:
        return (self.end - dt.timedelta(microseconds=1)).date()

    @property
    def cut_time(self) -> dt.time | None:
        """The time of day the span stops at on its last day, when it stops inside a day."""
        return None if self.end.time() == dt.time() else self.end.time()

    @property
    def days(self) -> int:
        """Calendar days the span touches."""
        return (self.last_day - self.start.date()).days + 1


def span_title(start: dt.date, end: dt.date, period: Period) -> str:
    """``2010`` for the whole period, else ``1 Jan – 9 Dec 2010`` (``end`` inclusive)."""
    if start == period.start and end == period.end:
        return period.title
    first = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{first} – {end.day} {end:%b %Y}"


def _span(name: str, start: dt.datetime, end: dt.datetime, period: Period) -> Span:
    last = (end - dt.timedelta(microseconds=1)).date()
    return Span(name, span_title(start.date(), last, period), start, end)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The period against one comparison period, over the instants both have data for.

    ``current`` is the period's side: the whole of the period's data unless the data
    starts inside the comparison period, when both sides are cut to the same days.
    Without a comparison (under half of the comparison period has data), ``current``
    and ``other`` are None and ``reason`` says why.
    """

    key: str  # yoy or mom
    period: Period  # the whole comparison period
    current: Span | None
    other: Span | None
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.other is not None


@dataclasses.dataclass(frozen=True)
class Coverage:
    """How much of a period the data covers, and what it can be compared with."""

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
    def end_instant(self) -> dt.datetime:
        """The first instant after the data: the minute after the last invoice's minute."""
        minute = self.last_data.replace(second=0, microsecond=0)
        return minute + dt.timedelta(minutes=1)

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
    def lookback(self) -> int:
        """The period's look-back in calendar months (see `lookback_months`)."""
        return lookback_months(self.first_data, self.period.start)

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

    @property
    def current(self) -> Span:
        """The period's data: from its first day (or the data's) to its end (or the data's)."""
        end = min(_midnight(self.period.end_exclusive), self.end_instant)
        return _span("current", _midnight(self.data_start), end, self.period)

    def comparison(self, key: str, other: Period) -> Comparison:
        """The period against ``other`` over the instants both have data for (BRIEF_SPEC,
        "Comparisons").

        A complete period is compared with the whole of ``other``. A period cut short by
        the end of the data (9 Dec 2011, 12:50) is compared up to the same moment of
        ``other`` (9 Dec 2010, 12:50, or 9 Nov 2011, 12:50, for the month before), and
        always compared. When the data starts inside ``other``, both sides keep only the
        days with data in both, and when that leaves less than half of ``other`` there is
        no comparison.
        """
        months = month_index(self.period.start) - month_index(other.start)
        first_day = _midnight(self.first_data.date())
        other_end = _midnight(other.end_exclusive)
        current = self.current
        start = months_before(current.start, months)
        end = (
            other_end
            if current.end == _midnight(self.period.end_exclusive)
            else min(months_before(current.end, months), other_end)
        )
        with_data = (other_end - max(_midnight(other.start), first_day)).days
        if 2 * with_data < other.days or end <= max(start, first_day):
            first = self.first_data.date()
            return Comparison(key, other, None, None, f"the data starts {first.day} {first:%b %Y}")
        if start < first_day:  # the data starts inside other: both sides keep the same days
            start = first_day
            current = _span("current", months_before(first_day, -months), current.end, self.period)
        return Comparison(key, other, current, _span(key, start, end, other))

    def comparisons(self) -> tuple[Comparison, ...]:
        """``yoy`` (a year earlier) always, and ``mom`` (the month before) for a month."""
        return tuple(self.comparison(key, other) for key, other in self.period.comparisons())

    def trailing(self, days: int) -> tuple[Span, Span | None]:
        """The ``days`` (365) before the snapshot, cut at the end of the data, and the same
        span ``days`` earlier; None for the earlier one when the data does not reach back.

        What trend rules measure, so that a month, a quarter and a year brief that end at
        the same moment measure the same twelve months.
        """
        snapshot = _midnight(self.snapshot)
        end = min(snapshot, self.end_instant)
        step = dt.timedelta(days=days)
        last = _span_label("trailing", snapshot - step, end)
        if snapshot - 2 * step < _midnight(self.first_data.date()):
            return last, None
        return last, _span_label("trailing_before", snapshot - 2 * step, end - step)

    def trailing_months(self) -> tuple[Span, Span | None]:
        """The twelve complete months before the snapshot's month, and the twelve before
        those (None when the data does not reach back): what the product rules measure,
        from whole months (the product tables are monthly)."""
        end = self.snapshot.replace(day=1)  # a partial last month is left out
        last = _month_span("trailing_months", add_months(end, -12), end)
        start = add_months(end, -24)
        if _midnight(start) < _midnight(self.first_data.date()):
            return last, None
        return last, _month_span("trailing_months_before", start, add_months(end, -12))


def _month_span(name: str, start: dt.date, end: dt.date) -> Span:
    """Whole months [start, end), titled by their months: ``Dec 2010 – Nov 2011``."""
    last = add_months(end, -1)
    return Span(name, f"{start:%b %Y} – {last:%b %Y}", _midnight(start), _midnight(end))


def _span_label(name: str, start: dt.datetime, end: dt.datetime) -> Span:
    """A span that is not a calendar period: titled by its days."""
    last = (end - dt.timedelta(microseconds=1)).date()
    first = f"{start.day} {start:%b}" + ("" if start.year == last.year else f" {start.year}")
    return Span(name, f"{first} – {last.day} {last:%b %Y}", start, end)
