"""TO_CHAR: Redshift datetime and numeric format strings compiled to DuckDB expressions.

Format strings must be literals: each template pattern is compiled once, at translation
time, into strftime pieces and string arithmetic. Patterns whose output the translator
has not matched to Redshift's documented behaviour raise instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from .build import duck
from .errors import UnsupportedConstruct

Piece = Callable[[exp.Expr], exp.Expr]

# Template patterns that map onto one strftime directive.
STRFTIME = {
    "YYYY": "%Y",
    "YY": "%y",
    "MM": "%m",
    "DD": "%d",
    "DDD": "%j",
    "HH24": "%H",
    "HH12": "%I",
    "HH": "%I",
    "MI": "%M",
    "SS": "%S",
    "MS": "%g",
    "US": "%f",
    "IW": "%V",
}
# Patterns whose letter case selects the case of the output text (MONTH, Month, month).
CASED_NAMES = {"MONTH": ("%B", 9), "MON": ("%b", 0), "DAY": ("%A", 9), "DY": ("%a", 0)}
COMPUTED: dict[str, str] = {
    "Y": "RIGHT(STRFTIME(_ts, '%Y'), 1)",
    "YYY": "RIGHT(STRFTIME(_ts, '%Y'), 3)",
    "Q": "CAST(QUARTER(_ts) AS VARCHAR)",
    "D": "CAST(DAYOFWEEK(_ts) + 1 AS VARCHAR)",
    "ID": "CAST(ISODOW(_ts) AS VARCHAR)",
    "CC": "CAST((YEAR(_ts) + 99) // 100 AS VARCHAR)",
    "WW": "LPAD(CAST((DAYOFYEAR(_ts) - 1) // 7 + 1 AS VARCHAR), 2, '0')",
    "W": "CAST((DAY(_ts) - 1) // 7 + 1 AS VARCHAR)",
    "TZ": "'UTC'",
}
NUMERIC_FIELDS = {"MM", "DD", "DDD", "HH24", "HH12", "HH", "MI", "SS", "IW", "WW"}
TOKENS = sorted(
    [*STRFTIME, *CASED_NAMES, *COMPUTED, "AM", "PM"],
    key=len,
    reverse=True,
)


def _cased(token_text: str, directive: str, width: int, fill_mode: bool) -> str:
    value = f"STRFTIME(_ts, '{directive}')"
    if token_text.isupper():
        value = f"UPPER({value})"
    elif token_text.islower():
        value = f"LOWER({value})"
    if width and not fill_mode:
        value = f"RPAD({value}, {width}, ' ')"
    return value


def datetime_to_char(value: exp.Expr, fmt: str, line: int | None) -> exp.Expr:
    """Compile a datetime format string into a DuckDB string expression over `value`."""
    parts: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            parts.append("STRFTIME(_ts, " + exp.Literal.string("".join(pending)).sql() + ")")
            pending.clear()

    position = 0
    fill_mode = False
    while position < len(fmt):
        rest = fmt[position:]
        if rest[:2].upper() == "FM":
            fill_mode, position = True, position + 2
            continue
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 0:
                raise UnsupportedConstruct("TO_CHAR", line, "unterminated quoted text in format")
            pending.append(rest[1:end].replace("%", "%%"))
            position += end + 1
            continue
        token = next((t for t in TOKENS if rest[: len(t)].upper() == t), None)
        if token is None:
            if rest[0].isalpha():
                raise UnsupportedConstruct("TO_CHAR", line, f"format pattern at {rest!r}")
            pending.append(rest[0].replace("%", "%%"))
            position += 1
            continue
        text = rest[: len(token)]
        position += len(token)
        if token in ("AM", "PM"):
            flush()
            case = "LOWER" if text.islower() else "UPPER"
            parts.append(f"{case}(STRFTIME(_ts, '%p'))")
        elif token in CASED_NAMES:
            flush()
            directive, width = CASED_NAMES[token]
            parts.append(_cased(text, directive, width, fill_mode))
        elif fill_mode and token in NUMERIC_FIELDS:
            flush()
            parts.append(
                f"CAST(CAST(STRFTIME(_ts, '{STRFTIME.get(token, '%U')}') AS INTEGER) AS VARCHAR)"
            )
        elif token in STRFTIME:
            pending.append(STRFTIME[token])
        else:
            flush()
            parts.append(COMPUTED[token])
        fill_mode = False
    flush()
    if not parts:
        return duck("CASE WHEN _ts IS NULL THEN NULL ELSE '' END", "VARCHAR", ts=value)
    return duck(" || ".join(parts), "VARCHAR", ts=value)


NUMBER_FORMAT = re.compile(
    r"(?P<currency>L)?(?P<lead>S)?(?P<int>[90]*)(?:(?P<point>[D.])(?P<frac>[90]*))?(?P<trail>S|MI)?",
    re.IGNORECASE,
)


def number_to_char(value: exp.Expr, fmt: str, line: int | None) -> exp.Expr:
    """Compile a numeric format such as '999D99S' or 'L99999D99' (Redshift, en_US locale).

    Digits are rounded to the format's fraction digits, '9' slots print blanks and '0'
    slots zeros, a leading sign slot (blank or '-') floats next to the digits unless S or
    MI ask for a sign elsewhere, and too many digits print as '#'.
    """
    match = NUMBER_FORMAT.fullmatch(fmt)
    if not match or not (match["int"] or match["frac"]):
        raise UnsupportedConstruct("TO_CHAR", line, f"numeric format {fmt!r}")
    integer_slots = match["int"] or ""
    fraction_digits = len(match["frac"] or "")
    zero_width = len(integer_slots) - integer_slots.find("0") if "0" in integer_slots else 0
    width = len(integer_slots) + (1 + fraction_digits if match["point"] else 0)
    digits = f"CAST(ABS(CAST(_v AS DECIMAL(38, {fraction_digits}))) AS VARCHAR)"
    whole = f"SPLIT_PART({digits}, '.', 1)"
    if fraction_digits:
        whole = f"CASE WHEN {whole} = '0' THEN '' ELSE {whole} END"
    padded = (
        f"CASE WHEN LENGTH({whole}) < {zero_width} "
        f"THEN LPAD({whole}, {zero_width}, '0') ELSE {whole} END"
    )
    body = padded
    if match["point"]:
        body += " || '.'"
        if fraction_digits:
            body += f" || SPLIT_PART({digits}, '.', 2)"
    negative = f"CAST(_v AS DECIMAL(38, {fraction_digits})) < 0"
    trail = (match["trail"] or "").upper()
    lead_sign = "S" if match["lead"] else ""
    if trail == "S":
        text = f"LPAD({body}, {width}, ' ') || CASE WHEN {negative} THEN '-' ELSE '+' END"
    elif trail == "MI":
        text = f"LPAD({body}, {width}, ' ') || CASE WHEN {negative} THEN '-' ELSE ' ' END"
    else:
        positive = "'+'" if lead_sign else "' '"
        text = (
            f"LPAD(CASE WHEN {negative} THEN '-' ELSE {positive} END || {body}, {width + 1}, ' ')"
        )
    text = (
        f"CASE WHEN _v IS NULL THEN NULL WHEN LENGTH({whole}) > {len(integer_slots)} "
        f"THEN REPEAT('#', {width + 1}) ELSE {text} END"
    )
    if match["currency"]:
        text = f"'$' || ({text})"
    return duck(text, "VARCHAR", v=value)


def to_char_literal_format(fmt: exp.Expr, line: int | None) -> str:
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise UnsupportedConstruct("TO_CHAR", line, "the format must be a string literal")
    return str(fmt.this)
