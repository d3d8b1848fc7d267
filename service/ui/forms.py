"""Reading the fields of the curators' web forms: text in, typed values out, every problem in Russian.

A browser sends every field as text. These readers turn it into numbers and dates and collect the
problems of the whole form at once, as ``{row, column, message}`` items of :class:`Invalid`
(``column`` is the field's Russian label), so a form is answered with every mistake named.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from features.numbers import number
from service.core.errors import Invalid
from service.core.text import MAX_ID, control_characters

__all__ = ["FormReader"]

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")


class FormReader:
    """Read fields of one submitted form, collecting problems instead of stopping at the first.

    Examples
    --------
    >>> form = FormReader({"number": "12", "on": "01.09.2024", "score": "11"})
    >>> form.date("on", "Дата"), form.integer("score", "Оценка", 1, 10)
    (datetime.date(2024, 9, 1), None)
    >>> form.problems
    [{'row': None, 'column': 'Оценка', 'value': '11', 'message': 'нужно целое число от 1 до 10'}]
    """

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.problems: list[dict[str, Any]] = []

    def problem(self, label: str, message: str, value: Any = None) -> None:
        """Add a problem of the field labelled ``label``."""
        self.problems.append({"row": None, "column": label, "value": value, "message": message})

    def text(
        self, name: str, label: str, required: bool = True, max_length: int = 1000
    ) -> str | None:
        """Return the stripped text of a field (None when empty and not required)."""
        value = str(self.fields.get(name) or "").strip()
        if not value:
            if required:
                self.problem(label, "поле не заполнено")
            return None
        if len(value) > max_length:
            self.problem(label, f"не длиннее {max_length} символов; сейчас {len(value)}")
            return None
        control = control_characters(value)
        if control:
            self.problem(label, f"в тексте управляющие символы ({', '.join(control)}): уберите их")
            return None
        return value

    def integer(
        self, name: str, label: str, low: int, high: int, required: bool = True
    ) -> int | None:
        """Return a whole number in ``[low, high]`` (None when empty and not required)."""
        raw = str(self.fields.get(name) or "").strip()
        if not raw:
            if required:
                self.problem(
                    label,
                    f"поле не заполнено: нужно целое число от {number(low)} до {number(high)}",
                )
            return None
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            self.problem(label, f"нужно целое число от {number(low)} до {number(high)}", raw)
            return None
        return value

    def date(
        self, name: str, label: str, required: bool = True, not_after: date | None = None
    ) -> date | None:
        """Return a date written as ``ДД.ММ.ГГГГ`` or as a date field sends it (``ГГГГ-ММ-ДД``),
        and not after ``not_after`` when given (say, today for the date of a signed document)."""
        raw = str(self.fields.get(name) or "").strip()
        if not raw:
            if required:
                self.problem(label, "поле не заполнено: нужна дата ДД.ММ.ГГГГ")
            return None
        for pattern in _DATE_FORMATS:
            try:
                value = datetime.strptime(raw, pattern).date()
            except ValueError:
                continue
            if not_after is not None and value > not_after:
                self.problem(label, f"дата не может быть позже {not_after:%d.%m.%Y}", raw)
                return None
            return value
        self.problem(label, "нужна дата в виде ДД.ММ.ГГГГ", raw)
        return None

    def choice(self, name: str, label: str, allowed: dict[str, str]) -> str | None:
        """Return a value that must be one of ``allowed`` (keys; values are Russian titles)."""
        raw = str(self.fields.get(name) or "").strip()
        if raw in allowed:
            return raw
        titles = ", ".join(f"«{title}»" for title in allowed.values())
        self.problem(label, f"выберите одно из: {titles}", raw or None)
        return None

    def ids(self, name: str, label: str) -> list[int]:
        """Return the whole numbers of a repeated field (checkboxes of rows)."""
        raw = self.fields.get(name) or []
        values = raw if isinstance(raw, list) else [raw]
        found = []
        for value in values:
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = 0
            if 1 <= number <= MAX_ID:
                found.append(number)
            else:
                self.problem(label, "неизвестная строка таблицы", value)
        return found

    def check(self, message: str = "Форма заполнена с ошибками; ничего не сохранено.") -> None:
        """Raise :class:`Invalid` with every problem found so far, if any."""
        if self.problems:
            raise Invalid(message, list(self.problems))
