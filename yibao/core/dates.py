"""Calendar arithmetic the policies speak in: 'within one month of discharge', '满60周岁'."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later; clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    month0 = d.month - 1 + months
    year = d.year + month0 // 12
    month = month0 % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def add_years(d: date, years: int) -> date:
    """The same day ``years`` later; Feb 29 becomes Feb 28 in a common year."""
    return add_months(d, 12 * years)


def age_on(birth: date, on: date) -> int:
    """Completed years of age (周岁) on a day: the birthday itself counts as reached."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def parse_date(text: object, *, field: str) -> date:
    """Parse an ISO date (YYYY-MM-DD) or fail naming the field."""
    from yibao.core.errors import ValidationFailed
    from yibao.core.text import ascii_digits

    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        raise ValidationFailed(field, "日期必须是 YYYY-MM-DD 格式的字符串", "date must be a YYYY-MM-DD string")
    try:
        return date.fromisoformat(ascii_digits(text, field=field))
    except ValueError:
        raise ValidationFailed(
            field, f"日期格式不正确：{text!r}（应为 YYYY-MM-DD）", f"malformed date {text!r}: expected YYYY-MM-DD"
        ) from None


_PERIOD_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def parse_period(text: object, *, field: str) -> date:
    """Parse a month such as ``"2023-05"`` (a contribution's 所属期) into its first day, or fail naming the field."""
    from yibao.core.errors import ValidationFailed
    from yibao.core.text import ascii_digits

    if not isinstance(text, str):
        raise ValidationFailed(field, "所属期应为 YYYY-MM 格式的字符串", "period must be a YYYY-MM string")
    m = _PERIOD_RE.match(ascii_digits(text.strip(), field=field))
    if not m or m.group(1) == "0000":
        raise ValidationFailed(
            field, f"所属期格式不正确：{text!r}（应为 YYYY-MM）", f"malformed period {text!r}: expected YYYY-MM"
        )
    return date(int(m.group(1)), int(m.group(2)), 1)


def day_start(d: date) -> datetime:
    """The first instant (in UTC) of a calendar day in China, for ``>=`` filters on stored times.

    Users ask for their records of a day as they lived it: 2023-01-01 begins at 00:00 in Kunming,
    which is 16:00 UTC on 2022-12-31.
    """
    if d <= date.min:
        return datetime.min.replace(tzinfo=UTC)  # nothing is earlier; 0001-01-01 00:00 +08:00 is not in range
    return datetime(d.year, d.month, d.day, tzinfo=CHINA_TZ).astimezone(UTC)


def day_after(d: date) -> datetime | None:
    """The first instant (UTC) after a day, for ``<`` filters; None for the last representable day (no limit)."""
    if d >= date.max:
        return None
    return day_start(d + timedelta(days=1))


# China Standard Time: UTC+8 all year (no daylight saving), so a fixed offset is exact.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


def local_date(moment: datetime) -> date:
    """The calendar day in China of an instant (deadlines and collection periods are local days)."""
    if moment.tzinfo is None:
        raise ValueError("an instant needs a time zone")
    return moment.astimezone(CHINA_TZ).date()


def utc_iso(moment: datetime) -> str:
    """ISO text of a stored instant; SQLite hands back naive datetimes, and every stored time is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()
