"""Numbers, shares and days as a Russian reader expects them, by Babel (CLDR): decimal commas,
a space before «%», whole days with the right plural («1 день», «3 дня», «813 дней»), scores on
one scale («52 из 100»).

Examples
--------
>>> number(1234.5), percent(0.186), days(813.0), days(22), score100(0.517)
('1\\xa0234,5', '18,6 %', '813 дней', '22 дня', 52)
"""

from __future__ import annotations

from babel import Locale
from babel.numbers import format_decimal, format_percent

__all__ = ["days", "number", "percent", "plural", "score100"]

_RU = Locale("ru")


def number(value: float | int | None, digits: int = 1) -> str:
    """A number with a decimal comma and at most ``digits`` decimals («—» for none)."""
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0." + "#" * digits if digits else "#,##0", locale=_RU)


def percent(share: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: «18,6 %»."""
    if share is None:
        return "—"
    pattern = "#,##0." + "#" * digits + " %" if digits else "#,##0 %"
    return format_percent(share, format=pattern, locale=_RU)


def plural(n: int, one: str, few: str, many: str) -> str:
    """The word of ``n`` in its Russian plural form: plural(5, "день", "дня", "дней") -> "дней"."""
    form = _RU.plural_form(abs(int(n)))
    return {"one": one, "few": few}.get(form, many)


def days(value: float | int | None) -> str:
    """Whole days with the plural: «813 дней» (a median of 813.0 days is 813 days)."""
    if value is None:
        return "—"
    n = round(value)
    return f"{number(n, 0)} {plural(n, 'день', 'дня', 'дней')}"


def score100(score: float) -> int:
    """A pair's compatibility, stored in [0, 1], on the pages' one scale: «52 из 100»."""
    return round(float(score) * 100)
