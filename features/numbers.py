"""Numbers as a Russian reader expects them, by Babel (CLDR): a decimal comma, no «,0» on a whole
number, groups of thousands from five digits on (Russian typography leaves «1500», «2024» whole),
a space before «%» and before a unit of size.

The one place numbers a curator reads are written: the pages (``service.ui.formatting`` gives
these to the templates), the service's Russian messages, documents and charts, and the command
line's messages about files.

Examples
--------
>>> number(12345.5), number(1234.5), number(20.0), number(0.25, 2), percent(0.186)
('12\\xa0345,5', '1234,5', '20', '0,25', '18,6 %')
>>> number(1_000_000), number(20000, group=False)
('1\\xa0000\\xa0000', '20000')
>>> size(20 * 2**20), size(1.5 * 2**20), size(300 * 2**10), size(2), size(3 * 2**30)
('20 МБ', '1,5 МБ', '300 КБ', '2 байта', '3 ГБ')
>>> signed(2.5), signed(-0.26), signed(0.01)
('+2,5', '−0,3', '0')
"""

from __future__ import annotations

from babel import Locale
from babel.numbers import format_decimal, format_percent

__all__ = ["number", "percent", "signed", "size"]

_RU = Locale("ru")
_UNITS = ((2**30, "ГБ"), (2**20, "МБ"), (2**10, "КБ"))


def number(value: float | int | None, digits: int = 1, group: bool = True) -> str:
    """A number with a decimal comma and at most ``digits`` decimals («—» for none); thousands
    in groups from 10 000 on, unless ``group`` is false."""
    if value is None:
        return "—"
    grouped = group and abs(value) >= 10_000
    pattern = ("#,##0" if grouped else "0") + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_RU)


def percent(share: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: «18,6 %» («—» for none)."""
    if share is None:
        return "—"
    pattern = "#,##0." + "#" * digits + " %" if digits else "#,##0 %"
    return format_percent(share, format=pattern, locale=_RU)


def signed(value: float | int | None, digits: int = 1) -> str:
    """A difference with its sign: «+2,5», «−0,3» (a true minus sign), «0» («—» for none)."""
    if value is None:
        return "—"
    shown = number(abs(value), digits)
    if shown == "0":
        return shown
    return ("+" if value > 0 else "−") + shown


def size(value: float | int) -> str:
    """A size in bytes in the largest unit it fills: «20 МБ», «1,5 МБ», «300 КБ», «12 байт»."""
    for unit, name in _UNITS:
        if value >= unit:
            return f"{number(value / unit)} {name}"
    form = _RU.plural_form(round(value))
    return f"{number(value, 0)} {'байта' if form == 'few' else 'байт'}"
