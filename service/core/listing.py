"""One way to page, search, filter and sort every list of the service (people, proposals, pairs,
waiting mentees, feedback), for the API and the pages alike.

A list is described once by a :class:`Listing`: which columns a search looks in, which filters
it has (a filter turns the text of a query parameter into a SQL condition, or refuses it), and
which sort keys. :func:`paginate` applies a curator's :class:`ListParams` (the query string of a
page or of an API call) to a SQLAlchemy ``select`` and returns one page and the total count, so
the database does the work and only one page of rows is read. :func:`page_of` does the same to a
list computed in Python (the waiting list: a wait is computed from the history of pairs).

Search matches every word of the query, in any of the search columns, ignoring case (on SQLite
too: ``service.core.db`` gives SQLite a ``lower()`` that knows Cyrillic), and «ё» as «е».
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from features.numbers import number
from service.core.errors import Invalid

__all__ = [
    "DEFAULT_PER_PAGE",
    "MAX_PER_PAGE",
    "ListParams",
    "Listing",
    "Page",
    "choice",
    "fold",
    "page_of",
    "paginate",
    "unknown_sort",
]

T = TypeVar("T")
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500


def fold(text: str) -> str:
    """Text as a search compares it: lower case, «ё» as «е»."""
    return text.lower().replace("ё", "е")


class Page(BaseModel, Generic[T]):
    """One page of a list, and how many items the whole list (with its filters) holds."""

    items: list[T]
    total: int = Field(description="Items of the whole list with the filters applied.")
    page: int = Field(description="This page's number, from 1.")
    per_page: int
    pages: int = Field(description="Number of pages (at least 1).")


@dataclass(frozen=True)
class ListParams:
    """What a curator asked of a list: a search, filters, a sort and a page."""

    q: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def parse(
        cls, query: Mapping[str, Any], filters: Iterable[str] | Mapping[str, Any]
    ) -> ListParams:
        """Read the parameters from a query string (a page's URL); a bad number is refused, and
        so is a value no filter offers when ``filters`` are a page's (name -> (label,
        {value: title})): named by the filter's label and the titles of its choices."""
        problems: list[dict[str, Any]] = []
        numbers = {}
        for name, label, default, high in (
            ("page", "Страница", 1, 10**6),
            ("per_page", "Строк на странице", DEFAULT_PER_PAGE, MAX_PER_PAGE),
        ):
            raw = str(query.get(name) or "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError:
                value = 0
            if not 1 <= value <= high:
                problems.append(
                    {"row": None, "column": label, "value": raw,
                     "message": f"нужно целое число от 1 до {number(high)}"}
                )  # fmt: skip
            numbers[name] = value
        chosen = {
            name: str(query[name]).strip() for name in filters if str(query.get(name) or "").strip()
        }
        offered = filters if isinstance(filters, Mapping) else {}
        for name, chosen_value in chosen.items():
            spec = offered.get(name)
            if (
                isinstance(spec, tuple)
                and isinstance(spec[1], Mapping)
                and chosen_value not in spec[1]
            ):
                titles = ", ".join(f"«{title}»" for title in spec[1].values())
                problems.append(
                    {"row": None, "column": spec[0], "value": chosen_value,
                     "message": f"можно выбрать {titles}"}
                )  # fmt: skip
        if problems:
            named = "; ".join(f"{p['column']} «{p['value']}»: {p['message']}" for p in problems)
            raise Invalid(f"Неверные параметры списка: {named}.", problems)
        return cls(
            q=str(query.get("q") or "").strip() or None,
            filters=chosen,
            sort=str(query.get("sort") or "").strip() or None,
            page=numbers["page"],
            per_page=numbers["per_page"],
        )

    def query(self, **changes: Any) -> str:
        """This state as a query string, with ``changes`` (say, ``page=3``); empty values dropped.

        A page links to the next page, a sort or a filter with it, so every state is a URL.
        """
        values: dict[str, Any] = {"q": self.q, **self.filters, "sort": self.sort}
        if self.page != 1:
            values["page"] = self.page
        if self.per_page != DEFAULT_PER_PAGE:
            values["per_page"] = self.per_page
        values.update(changes)
        if "page" in values and values["page"] == 1:
            del values["page"]
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


Filter = Callable[[str], ColumnElement[bool]]
Column = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class Listing:
    """How one list is searched, filtered and sorted.

    ``sorts`` maps a sort key to its ORDER BY columns; ``-key`` sorts the other way. The first
    sort key is the default unless ``default_sort`` says otherwise (with or without ``-``).
    ``sort_columns`` names each sort key's column as the curator reads it (a bad sort is refused
    naming those); ``sort_titles`` are the choices of the page's «Порядок» list.
    """

    search: Sequence[Column]
    sorts: Mapping[str, Sequence[Column]]
    sort_columns: Mapping[str, str]
    filters: Mapping[str, Filter] = field(default_factory=dict)
    default_sort: str | None = None
    sort_titles: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        untitled = set(self.sorts) ^ set(self.sort_columns)
        if untitled:
            raise ValueError(f"sort keys without a column title (or titles of no key): {untitled}")

    def order(self, sort: str | None) -> list[Any]:
        """The ORDER BY of a sort key (a bad key is refused, naming the columns there are)."""
        key = sort or self.default_sort or next(iter(self.sorts))
        descending = key.startswith("-")
        columns = self.sorts.get(key.removeprefix("-"))
        if columns is None:
            raise unknown_sort(key, self.sort_columns)
        return [c.desc() if descending else c.asc() for c in columns]

    def where(self, params: ListParams) -> list[ColumnElement[bool]]:
        """The conditions of the search and the filters."""
        conditions = [self.filters[name](value) for name, value in params.filters.items()]
        for word in fold(params.q or "").split():
            conditions.append(
                or_(*(func.replace(func.lower(c), "ё", "е").contains(word) for c in self.search))
            )
        return conditions


def unknown_sort(key: str, columns: Mapping[str, str]) -> Invalid:
    """The error of a sort ``key`` that is none of ``columns`` (sort key -> its column's title).

    A curator reads the columns by their Russian titles; a program finds the keys it may send
    in the answer's ``allowed_sorts`` (``-key`` sorts the other way).
    """
    named = ", ".join(f"«{title}»" for title in columns.values())
    return Invalid(
        f"Неизвестный порядок сортировки «{key}». Список можно упорядочить по столбцам "
        f"{named} — по возрастанию или по убыванию.",
        [{"row": None, "column": "Порядок", "value": key, "message": f"можно по столбцам {named}"}],
        {"allowed_sorts": [k for base in columns for k in (base, "-" + base)]},
    )


def choice(column: Column, allowed: Mapping[str, Any], label: str) -> Filter:
    """A filter keeping rows whose ``column`` equals the value chosen among ``allowed``
    (query value -> column value; a value of None means 'no condition')."""

    def condition(value: str) -> ColumnElement[bool]:
        if value not in allowed:
            names = ", ".join(allowed)
            raise Invalid(
                f"Фильтр «{label}»: неизвестное значение «{value}»; возможны: {names}.",
                [{"row": None, "column": label, "value": value, "message": f"возможны: {names}"}],
            )
        wanted = allowed[value]
        if isinstance(wanted, ColumnElement):
            return wanted
        return column == wanted

    return condition


def paginate(
    session: Session, query: Select[Any], listing: Listing, params: ListParams
) -> tuple[list[Any], int]:
    """Return one page of the rows of ``query`` (searched, filtered, sorted) and the total."""
    conditions = listing.where(params)
    filtered = query.where(and_(*conditions)) if conditions else query
    order = listing.order(params.sort)
    total = session.scalar(select(func.count()).select_from(filtered.order_by(None).subquery()))
    rows = session.execute(
        filtered.order_by(*order).limit(params.per_page).offset((params.page - 1) * params.per_page)
    ).all()
    return [row[0] if len(row) == 1 else row for row in rows], int(total or 0)


def page_of(items: Sequence[T], params: ListParams, total: int | None = None) -> Page[T]:
    """A :class:`Page` of ``items`` (already one page when ``total`` is given, else all of them)."""
    if total is None:
        total = len(items)
        start = (params.page - 1) * params.per_page
        items = items[start : start + params.per_page]
    return Page[T](
        items=list(items),
        total=total,
        page=params.page,
        per_page=params.per_page,
        pages=max(1, math.ceil(total / params.per_page)),
    )
