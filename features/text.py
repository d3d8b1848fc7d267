"""Text helpers shared by the spec, the import and the reasons: matching keys and Russian plurals."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

from features.numbers import number

__all__ = ["in_sentence", "join_items", "normalize", "plural", "render"]

_SPACES = re.compile(r"\s+")
_BRACKET_OPEN = re.compile(r"\s*\[\s*")
_BRACKET_CLOSE = re.compile(r"\s*\]")


def normalize(text: object) -> str:
    """Return the key under which a header or an answer is matched.

    Case, repeated or non-breaking spaces, the letter ё and spaces inside square brackets
    (form services write grid questions as ``Вопрос [Строка]``) do not matter to a curator,
    so they do not matter here either.

    Examples
    --------
    >>> normalize("  Стаж   работы, ЛЕТ ")
    'стаж работы, лет'
    >>> normalize("Затруднения[ Методические ]") == normalize("затруднения [методические]")
    True
    >>> normalize("Ёлка") == normalize("елка")
    True
    """
    folded = str(text).replace("ё", "е").replace("Ё", "Е").casefold()
    folded = _BRACKET_OPEN.sub(" [", folded)
    folded = _BRACKET_CLOSE.sub("]", folded)
    return _SPACES.sub(" ", folded).strip()


def plural(n: float, one: str, few: str, many: str) -> str:
    """Choose the Russian word form that goes with the number ``n``.

    Examples
    --------
    >>> [plural(n, "год", "года", "лет") for n in (1, 2, 5, 11, 21, 1.5)]
    ['год', 'года', 'лет', 'лет', 'год', 'года']
    """
    if n != int(n):
        return few
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def in_sentence(label: str) -> str:
    """An answer label as it reads inside a sentence: «Физика» -> «физика», «ИКТ» stays.

    Examples
    --------
    >>> [in_sentence(s) for s in ("Физика", "ИКТ", "ОБЗР", "Русский язык", "")]
    ['физика', 'ИКТ', 'ОБЗР', 'русский язык', '']
    """
    if len(label) > 1 and label[0].isupper() and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def join_items(items: Iterable[str]) -> str:
    """Join answer labels for a sentence a curator reads."""
    return ", ".join(items)


class _ReasonFormatter(string.Formatter):
    """``{n:запрос|запроса|запросов}`` writes the number with the right plural form."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            forms = format_spec.split("|")
            if len(forms) != 3:
                raise ValueError(f"a plural needs three forms, got {format_spec!r}")
            return f"{_number(value)} {plural(float(value), *forms)}"
        if isinstance(value, float) and not format_spec:
            return _number(value)
        return super().format_field(value, format_spec)


def _number(value: float) -> str:
    return number(value, 2, group=False) if isinstance(value, float) else str(value)


_FORMATTER = _ReasonFormatter()


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a reason template.

    ``{name}`` inserts a value; ``{name:один|два|пять}`` inserts a number with its plural form.

    Examples
    --------
    >>> render("стаж больше на {diff:год|года|лет}", {"diff": 12.0})
    'стаж больше на 12 лет'
    >>> render("один предмет: {items}", {"items": "физика"})
    'один предмет: физика'
    """
    return _FORMATTER.vformat(template, (), values)
