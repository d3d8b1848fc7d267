"""Numbers, shares and days as a Russian reader expects them, by Babel (CLDR): decimal commas,
a space before «%», whole days with the right plural («1 день», «3 дня», «813 дней»), scores on
one scale («52 из 100»). Numbers, shares, differences and sizes come from ``features.numbers``, the
one helper of the service's messages and documents too.

Examples
--------
>>> number(12345.5), percent(0.186), days(813.0), days(22), score100(0.517)
('12\\xa0345,5', '18,6 %', '813 дней', '22 дня', 52)
"""

from __future__ import annotations

from babel import Locale

from features.numbers import number, percent, signed, size

__all__ = ["days", "number", "percent", "plural", "score100", "signed", "size"]

_RU = Locale("ru")


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
