"""Feedback on a pair and the satisfaction questionnaire at its end (DOMAIN.md, monitoring).

The satisfaction questionnaire (mentor's and mentee's versions alike) has items scored 1–10, two
open questions and "would you continue". Its stored ``score`` is the rounded mean of the items;
the report uses the exact mean. A short form with only an overall ``score`` is also accepted.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from service.core.errors import Invalid

__all__ = [
    "KINDS",
    "OPEN_QUESTIONS",
    "SATISFACTION_ITEMS",
    "Response",
    "check_response",
    "satisfaction_value",
]

KINDS = {"feedback": "обратная связь", "satisfaction": "анкета удовлетворённости"}
AUTHORS = {"mentee": "наставляемый", "mentor": "наставник"}

SATISFACTION_ITEMS = {
    "effectiveness": "Насколько эффективной была программа наставничества",
    "comfort": "Насколько комфортным было общение с наставником (наставляемым)",
    "usefulness": "Насколько полезными были встречи",
    "clarity": "Насколько понятными были задачи",
    "support": "Насколько вы ощущали поддержку",
    "joint_work": "Насколько вы довольны совместной работой",
}
OPEN_QUESTIONS = {
    "valuable": "Что было самым ценным",
    "missing": "Чего не хватило",
}
CONTINUE = ("would_continue", "Хотели бы вы продолжить работу в паре")
_MAX_TEXT = 5000


@dataclass(frozen=True)
class Response:
    """A checked response: the overall score (1–10 or None) and the answers to keep."""

    score: int | None
    answers: dict[str, Any]


def _item(key: str, value: Any, problems: list[dict[str, Any]]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        problems.append(
            {
                "row": None,
                "column": SATISFACTION_ITEMS[key],
                "value": value,
                "message": "нужна оценка — целое число от 1 до 10",
            }
        )
        return None
    return value


def _answers_problems(kind: str, answers: dict[str, Any]) -> list[dict[str, Any]]:
    known = set(SATISFACTION_ITEMS) | set(OPEN_QUESTIONS) | {CONTINUE[0]}
    problems = []
    for key in answers:
        if kind != "satisfaction" or key not in known:
            where = "анкеты удовлетворённости" if kind == "satisfaction" else "обратной связи"
            problems.append(
                {
                    "row": None,
                    "column": key,
                    "value": None,
                    "message": f"нет такого вопроса {where}",
                }
            )
    for key in OPEN_QUESTIONS:
        value = answers.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > _MAX_TEXT):
            problems.append(
                {
                    "row": None,
                    "column": OPEN_QUESTIONS[key],
                    "value": None,
                    "message": f"нужен текст не длиннее {_MAX_TEXT} символов",
                }
            )
    value = answers.get(CONTINUE[0])
    if value is not None and not isinstance(value, bool):
        problems.append(
            {"row": None, "column": CONTINUE[1], "value": value, "message": "нужно «да» или «нет»"}
        )
    return problems


def check_response(
    kind: str, score: int | None, answers: dict[str, Any], comment: str | None = None
) -> Response:
    """Check a response of ``kind`` (``feedback`` or ``satisfaction``); return what to store.

    Raises
    ------
    Invalid
        With every problem: an unknown question, an item outside 1–10, a partly answered list of
        items, a questionnaire with neither a score nor the items, or empty feedback.
    """
    problems = _answers_problems(kind, answers)
    given = [key for key in SATISFACTION_ITEMS if answers.get(key) is not None]
    items = {key: _item(key, answers[key], problems) for key in given}
    if kind == "satisfaction" and given and len(given) < len(SATISFACTION_ITEMS):
        for key in SATISFACTION_ITEMS:
            if key not in given:
                problems.append(
                    {"row": None, "column": SATISFACTION_ITEMS[key], "value": None,
                     "message": "оценка не поставлена"}
                )  # fmt: skip
    if score is None and not given and kind == "satisfaction":
        problems.append(
            {"row": None, "column": "Оценка", "value": None,
             "message": "нужны оценки по всем пунктам анкеты (или общая оценка от 1 до 10)"}
        )  # fmt: skip
    if kind == "feedback" and score is None and not (comment or "").strip():
        problems.append(
            {"row": None, "column": "Оценка", "value": None,
             "message": "поставьте оценку от 1 до 10 или напишите комментарий"}
        )  # fmt: skip
    if problems:
        raise Invalid(f"Ответ не сохранён: проблем — {len(problems)}.", problems)
    values = [v for v in items.values() if v is not None]
    if score is None and values:
        score = max(1, min(10, round(statistics.fmean(values))))
    return Response(score, {k: v for k, v in answers.items() if v is not None})


def satisfaction_value(score: int | None, answers: dict[str, Any] | None) -> float | None:
    """Return a response's satisfaction on the 1–10 scale: the mean of its items, else its score."""
    items = [answers[k] for k in SATISFACTION_ITEMS if answers and isinstance(answers.get(k), int)]
    if items:
        return statistics.fmean(items)
    return None if score is None else float(score)
