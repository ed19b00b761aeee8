"""Redshift date and timestamp literal forms, normalised to ISO text at translation time.

Redshift (MDY DateStyle) accepts forms such as '20080215 04:05:06', 'Jan-31-2000' and
'2008.366' that DuckDB rejects or reads differently; see "Date, time, and timestamp
literals" in the Redshift Database Developer Guide.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
MONTH = r"(?P<mon>[A-Za-z]+)"


def _two_digit_year(year: int) -> int:
    return year + (2000 if year < 70 else 1900)


def _parse_date(text: str) -> date | None:
    patterns = [
        (r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})", None),
        (r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})", None),
        (r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<yy>\d{2})", None),
        (r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", None),
        (r"(?P<yy>\d{2})(?P<m>\d{2})(?P<d>\d{2})", None),
        (rf"(?P<y>\d{{4}})-{MONTH}-(?P<d>\d{{1,2}})", None),
        (rf"{MONTH}-(?P<d>\d{{1,2}})-(?P<y>\d{{4}})", None),
        (rf"(?P<d>\d{{1,2}})-{MONTH}-(?P<y>\d{{4}})", None),
        (rf"{MONTH} (?P<d>\d{{1,2}}), (?P<y>\d{{4}})", None),
    ]
    for pattern, _ in patterns:
        match = re.fullmatch(pattern, text)
        if not match:
            continue
        parts = match.groupdict()
        year = int(parts["y"]) if parts.get("y") else _two_digit_year(int(parts["yy"]))
        month = MONTHS.get(parts["mon"].lower()) if parts.get("mon") else int(parts["m"])
        if month is None:
            return None
        try:
            return date(year, month, int(parts["d"]))
        except ValueError:
            return None
    day_of_year = re.fullmatch(r"(?P<y>\d{4})\.(?P<doy>\d{3})", text)
    if day_of_year:
        number = int(day_of_year["doy"])
        first = date(int(day_of_year["y"]), 1, 1)
        result = first + timedelta(days=number - 1)
        return result if number >= 1 and result.year == first.year else None
    return None


def _parse_time(text: str) -> time | None:
    match = re.fullmatch(
        r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?"
        r"(?: ?(?P<ampm>[AaPp][Mm]))?",
        text,
    ) or re.fullmatch(r"(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})", text)
    if not match:
        return None
    parts = match.groupdict()
    hour = int(parts["h"])
    ampm = (parts.get("ampm") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    micro = int((parts.get("f") or "").ljust(6, "0") or 0)
    try:
        return time(hour, int(parts["mi"]), int(parts.get("s") or 0), micro)
    except ValueError:
        return None


def parse_timestamp(text: str) -> datetime | None:
    """A Redshift date or timestamp literal as a datetime, or None if the form is not known."""
    stripped = text.strip()
    whole_date = _parse_date(stripped)
    if whole_date is not None:
        return datetime.combine(whole_date, time())
    for split in re.finditer(r"[ T]", stripped):
        day = _parse_date(stripped[: split.start()])
        clock = _parse_time(stripped[split.end() :])
        if day is not None and clock is not None:
            return datetime.combine(day, clock)
    return None


def iso_timestamp(value: datetime) -> str:
    return value.isoformat(sep=" ")
