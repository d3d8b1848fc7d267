"""A questionnaire as a form on a page: its questions, stored answers shown in the form, and a
submitted form read back into records (answers by question key).

Shared by the participants' own questionnaires (``service.participation.answering``) and a
curator's correction of a person's answers (``service.people.editing``); ``features`` validates
the records either way (``answers_from_records``).
"""

from __future__ import annotations

from typing import Any

from service.people.questionnaires import load_spec_named

__all__ = [
    "AUTOMATIC",
    "DAYS",
    "PLURAL",
    "SKIPPED_TYPES",
    "form_values",
    "questions",
    "records_from_form",
    "side_of",
]

PLURAL = {"mentor": "mentors", "mentee": "mentees"}
DAYS = [("mon", "пн"), ("tue", "вт"), ("wed", "ср"), ("thu", "чт"), ("fri", "пт"),
        ("sat", "сб"), ("sun", "вс")]  # fmt: skip
SKIPPED_TYPES = {"consent"}
AUTOMATIC = {"submitted"}  # the form's time stamp: today, on the first answer


def side_of(spec_name: str, side: str) -> Any:
    """The spec's part of one side (``side`` is "mentor" or "mentee")."""
    return load_spec_named(spec_name).side(PLURAL[side])


def questions(spec_name: str, side: str, personal: bool) -> list[dict[str, Any]]:
    """The questions a person answers on the page, in the spec's order."""
    part = side_of(spec_name, side)
    shown = []
    for q in part.questions:
        if q.type in SKIPPED_TYPES or q.key in AUTOMATIC:
            continue
        shown.append(
            {
                "key": q.key,
                "header": q.header,
                "type": q.type,
                "required": q.required,
                "description": q.description,
                "choices": [{"key": c.key, "label": c.label} for c in q.choices],
                "items": [{"key": c.key, "label": c.label} for c in q.items],
                "other": q.other,
                "min": q.min,
                "max": q.max,
                "integer": q.integer,
                "format": q.format,
                "fixed": personal and q.key == part.fields.id,
            }
        )
    return shown


def form_values(spec_name: str, side: str, records: dict[str, Any]) -> dict[str, Any]:
    """Stored answers as the form shows them (a Likert level back to its answer's key; a whole
    number stored as 37.0 as «37», not the «37.0» a curator would read in the field)."""
    part = side_of(spec_name, side)
    values = dict(records)
    for q in part.questions:
        value = records.get(q.key)
        if q.type == "number" and isinstance(value, float) and value.is_integer():
            values[q.key] = int(value)
        elif q.type == "likert" and value is not None:
            by_value = {c.value: c.key for c in q.choices}
            if isinstance(value, dict):
                values[q.key] = {k: by_value.get(v, v) for k, v in value.items()}
            else:
                values[q.key] = by_value.get(value, value)
    return values


def _listed(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def records_from_form(spec_name: str, side: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Records (answers by question key) from a submitted form: ``q.<key>`` fields, repeated for
    several answers; ``q.<key>.<item>`` for a row of a Likert grid; ``q.<key>.other`` for an own
    answer. Empty answers are None; ``features`` validates the rest."""
    part = side_of(spec_name, side)
    records: dict[str, Any] = {}
    for q in part.questions:
        if q.type in SKIPPED_TYPES or q.key in AUTOMATIC:
            continue
        name = f"q.{q.key}"
        if q.type in ("multi", "slots"):
            chosen = _listed(fields.get(name))
            other = str(fields.get(f"{name}.other") or "").strip()
            if other:
                chosen += [o.strip() for o in other.split(",") if o.strip()]
            records[q.key] = chosen or None
        elif q.is_grid:
            levels = {
                item.key: str(fields.get(f"{name}.{item.key}") or "").strip() for item in q.items
            }
            records[q.key] = {k: v for k, v in levels.items() if v} or None
        elif q.type == "yesno":
            raw = str(fields.get(name) or "")
            records[q.key] = {"yes": True, "no": False}.get(raw)
        else:
            raw = str(fields.get(name) or "").strip()
            if q.type == "single" and q.other and raw == "__other__":
                raw = str(fields.get(f"{name}.other") or "").strip()
            records[q.key] = raw or None
    return records
