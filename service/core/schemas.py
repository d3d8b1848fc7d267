"""The error answer of the API, shared by every route (``service.handlers`` produces it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ERROR_RESPONSES", "ErrorItem", "ErrorOut", "errors"]


class ErrorItem(BaseModel):
    """One problem: where (row, column as the curator sees them), the value found, and what is wrong."""

    row: int | None = None
    column: str | None = None
    value: Any = None
    message: str


class ErrorOut(BaseModel):
    """An error answer: a code for programs, a Russian message for people, every problem listed.

    An error may add fields of its own (``mentor_id``, ``taken``, ``capacity`` of ``mentor_full``;
    ``pair_id`` of ``already_decided`` and ``mentee_has_pair``; ``allowed_sorts`` of a bad ``sort``
    of a list; ...).
    """

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Machine-readable: not_found, invalid, mentor_full, ...")
    detail: str = Field(description="What went wrong, in Russian, naming people, not ids.")
    errors: list[ErrorItem] = []


_DESCRIPTIONS = {
    401: "No valid token or session.",
    403: "The role does not allow this; or an unsafe request authenticated by the pages' cookie "
    "came from another origin (`csrf`).",
    404: "Not found, or not visible to this user.",
    409: "The current state forbids it (no free place, already decided, no consent, ...).",
    422: "The request or its file is invalid: every problem in `errors`.",
    410: "A participant's link has expired.",  # branch participation
    429: "Too many failed attempts from this address: retry later.",  # branch participation
    503: "The database stayed busy with another long write (SQLite's one writer, e.g. a big "
    "import of another school): nothing was stored; retry (`busy`).",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in _DESCRIPTIONS.items()
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a route (those it adds to 401/404/422)."""
    return {code: ERROR_RESPONSES[code] for code in codes}
