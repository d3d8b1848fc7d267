"""Proposed pairs as tables a curator reads: pairs with reasons, mentees left waiting, mentors' load."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import numbers
from features.scoring import PairScores
from features.text import plural

__all__ = ["DECISION", "DECISIONS", "Proposals", "proposals", "write_proposals"]

WAIT_LIMIT_DAYS = 30  # docs/rules.md#thirty-days
DECISION = "Решение куратора"
DECISIONS = ("подтвердить", "отклонить", "отложить")


@dataclass(frozen=True)
class Proposals:
    """The tables of one batch run (column headers in Russian, as the curator sees them).

    Attributes
    ----------
    pairs : pandas.DataFrame
        One proposed pair per row: people, organisations, form, score, reasons, component values.
    unmatched : pandas.DataFrame
        Mentees left without a pair, the longest waiting first, with the reason.
    mentors : pandas.DataFrame
        Each mentor's places, proposed mentees and free places.
    groups : pandas.DataFrame or None
        One row per group (a mentor's mentees in one form, docs/rules.md#group-size): size, the
        form's largest group and term, cohesion, the mentees.
    notes : dict
        What each column of each table means (table key -> column -> a sentence in Russian):
        the legend of the workbook.
    """

    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    mentors: pd.DataFrame
    groups: pd.DataFrame | None = None
    notes: dict[str, dict[str, str]] = field(default_factory=dict)


def proposals(
    scores: PairScores,
    pairs: Sequence[tuple[int, int]],
    min_score: float = 0.0,
    today: dt.date | None = None,
    similarity: Any = None,
) -> Proposals:
    """Tables of a solved batch: ``pairs`` are (mentee, mentor) positions chosen by the solver.

    ``similarity`` (mentees x mentees, :func:`features.groups.mentee_similarity`) gives each
    group its cohesion in the groups table."""
    groups, labels = _groups_table(scores, pairs, similarity)
    return Proposals(
        _with_groups(_pairs_table(scores, pairs), scores, pairs, labels),
        _unmatched_table(scores, pairs, min_score, today or dt.date.today()),
        _mentors_table(scores, pairs),
        groups,
        _notes(scores, min_score),
    )


def _group_members(
    scores: PairScores, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, str], list[int]]:
    members: dict[tuple[int, str], list[int]] = {}
    for mentee, mentor in pairs:
        members.setdefault((mentor, scores.form(mentee, mentor)), []).append(mentee)
    return members


def _groups_table(
    scores: PairScores, pairs: Sequence[tuple[int, int]], similarity: Any
) -> tuple[pd.DataFrame, dict[tuple[int, str], str]]:
    """The groups table, and the label («Группа 3») of each group of two or more mentees."""
    mentors, mentees = scores.mentors, scores.mentees
    forms = {f.key: f for f in scores.spec.forms}
    orgs = _orgs(scores, "mentors")
    members = _group_members(scores, pairs)
    ordered = sorted(members, key=lambda g: (mentors.names[g[0]] or "", forms[g[1]].label))
    labels: dict[tuple[int, str], str] = {}
    rows = []
    for key in ordered:
        mentor, form_key = key
        people = sorted(members[key], key=lambda i: mentees.names[i] or "")
        form = forms[form_key]
        label = ""
        if len(people) > 1:
            label = labels[key] = f"Группа {len(labels) + 1}"
        cohesion = None
        if similarity is not None and len(people) > 1:
            block = similarity[np.array(people)][:, np.array(people)]
            cohesion = round(float(block.sum()) / (len(people) * (len(people) - 1)), 3)
        rows.append(
            {
                "Группа": label or "индивидуально",
                "Наставник": mentors.names[mentor] or "",
                "Код наставника": mentors.person_ids[mentor],
                "Организация наставника": orgs[mentor],
                "Форма": form.label,
                "Наставляемых": len(people),
                "Наибольшая группа формы": form.max_group,
                "Срок, мес.": f"{form.term.min_months}–{form.term.max_months}",
                "Сплочённость": cohesion,
                "Наставляемые": "; ".join(
                    mentees.names[i] or mentees.person_ids[i] for i in people
                ),
            }
        )
    columns = [
        "Группа",
        "Наставник",
        "Код наставника",
        "Организация наставника",
        "Форма",
        "Наставляемых",
        "Наибольшая группа формы",
        "Срок, мес.",
        "Сплочённость",
        "Наставляемые",
    ]
    return pd.DataFrame(rows, columns=columns), labels


def _with_groups(
    frame: pd.DataFrame,
    scores: PairScores,
    pairs: Sequence[tuple[int, int]],
    labels: dict[tuple[int, str], str],
) -> pd.DataFrame:
    """The pairs table with each pair's group and the mentee's other mentors (co-mentors)."""
    mentors, mentees = scores.mentors, scores.mentees
    by_id = {mentees.person_ids[i]: i for i in range(len(mentees))}
    mentor_at = {mentors.person_ids[j]: j for j in range(len(mentors))}
    of_mentee: dict[int, list[int]] = {}
    for mentee, mentor in pairs:
        of_mentee.setdefault(mentee, []).append(mentor)
    group, others = [], []
    for mentee_id, mentor_id in zip(
        frame["Код наставляемого"], frame["Код наставника"], strict=True
    ):
        mentee, mentor = by_id[mentee_id], mentor_at[mentor_id]
        group.append(labels.get((mentor, scores.form(mentee, mentor)), ""))
        others.append(
            "; ".join(
                mentors.names[j] or mentors.person_ids[j] for j in of_mentee[mentee] if j != mentor
            )
        )
    frame = frame.copy()
    frame["Группа"] = group
    frame["Другие наставники"] = others
    return frame


def _orgs(scores: PairScores, side: str) -> list[str]:
    answers = scores.mentees if side == "mentees" else scores.mentors
    return [o or "" for o in answers.organisations]


def _pairs_table(scores: PairScores, pairs: Sequence[tuple[int, int]]) -> pd.DataFrame:
    labels = {c.key: c.label for c in scores.spec.components}
    forms = {f.key: f.label for f in scores.spec.forms}
    mentees, mentors = scores.mentees, scores.mentors
    mentee_orgs, mentor_orgs = _orgs(scores, "mentees"), _orgs(scores, "mentors")
    ordered = sorted(pairs, key=lambda p: (mentors.names[p[1]] or "", mentees.names[p[0]] or ""))
    rows = []
    for number, (mentee, mentor) in enumerate(ordered, start=1):
        row = {
            "№": number,
            "Наставник": mentors.names[mentor] or "",
            "Код наставника": mentors.person_ids[mentor],
            "Организация наставника": mentor_orgs[mentor],
            "Наставляемый": mentees.names[mentee] or "",
            "Код наставляемого": mentees.person_ids[mentee],
            "Организация наставляемого": mentee_orgs[mentee],
            "Форма": forms[scores.form(mentee, mentor)],
            "Оценка": round(float(scores.score(mentee, mentor) or 0.0), 3),
            "Почему эта пара": "; ".join(scores.reasons(mentee, mentor, top=3)),
            DECISION: "",
        }
        values = scores.component_values(mentee, mentor)
        row.update({labels[k]: round(v, 3) for k, v in values.items()})
        rows.append(row)
    columns = [
        "№",
        "Наставник",
        "Код наставника",
        "Организация наставника",
        "Наставляемый",
        "Код наставляемого",
        "Организация наставляемого",
        "Форма",
        "Оценка",
        "Почему эта пара",
        DECISION,
        *labels.values(),
    ]
    return pd.DataFrame(rows, columns=columns)


def _unmatched_reason(scores: PairScores, mentee: int, min_score: float) -> str:
    if not scores.mentees.consent[mentee]:
        fields = scores.spec.mentees.fields
        if fields.parent_consent and scores.mentees.minor[mentee]:
            return "нет согласия (для несовершеннолетнего нужно и согласие родителя)"
        return "нет согласия на участие и обработку персональных данных"
    start, end = scores.scores.indptr[mentee], scores.scores.indptr[mentee + 1]
    if start == end:
        return "нет подходящих наставников: форма, организация или формат встреч не совпадают"
    if scores.scores.data[start:end].max() < min_score:
        return "все возможные пары ниже минимальной оценки"
    return "не хватило свободных мест у подходящих наставников"


def _short_reason(wanted: int, got: int) -> str:
    return (
        f"нужно наставников: {wanted}, предложено: {got} — не хватило свободных мест у других "
        "подходящих наставников"
    )


def _days(n: int) -> str:
    return f"{n} {plural(n, 'день', 'дня', 'дней')}"


def _waiting(days: float) -> str:
    """The 30-day deadline of a mentee (docs/rules.md#thirty-days) as a curator reads it."""
    if np.isnan(days):
        return "дата вступления неизвестна"
    late = int(days) - WAIT_LIMIT_DAYS
    if late > 0:
        return f"просрочено на {_days(late)}"
    if late == 0:
        return "срок истекает сегодня"
    return f"осталось {_days(-late)}"


def _unmatched_table(
    scores: PairScores, pairs: Sequence[tuple[int, int]], min_score: float, today: dt.date
) -> pd.DataFrame:
    mentees = scores.mentees
    got = np.bincount([mentee for mentee, _ in pairs], minlength=len(mentees))
    wanted = scores.demand
    waiting = mentees.waiting_days(today)
    orgs = _orgs(scores, "mentees")
    left = [i for i in range(len(mentees)) if got[i] < wanted[i]]
    left.sort(key=lambda i: (np.isnan(waiting[i]), -np.nan_to_num(waiting[i]), mentees.rows[i]))
    rows = []
    for number, mentee in enumerate(left, start=1):
        entered = mentees.entry_dates[mentee]
        rows.append(
            {
                "№": number,
                "Наставляемый": mentees.names[mentee] or "",
                "Код наставляемого": mentees.person_ids[mentee],
                "Организация": orgs[mentee],
                "Дата вступления": entered.strftime("%d.%m.%Y") if entered else "",
                "Дней ожидания": None if np.isnan(waiting[mentee]) else int(waiting[mentee]),
                "Срок": _waiting(waiting[mentee]),
                "Причина": _unmatched_reason(scores, mentee, min_score)
                if got[mentee] == 0
                else _short_reason(int(wanted[mentee]), int(got[mentee])),
            }
        )
    columns = [
        "№",
        "Наставляемый",
        "Код наставляемого",
        "Организация",
        "Дата вступления",
        "Дней ожидания",
        "Срок",
        "Причина",
    ]
    return pd.DataFrame(rows, columns=columns)


def _mentors_table(scores: PairScores, pairs: Sequence[tuple[int, int]]) -> pd.DataFrame:
    mentors = scores.mentors
    taken = np.bincount([mentor for _, mentor in pairs], minlength=len(mentors))
    orgs = _orgs(scores, "mentors")
    return pd.DataFrame(
        {
            "Наставник": [n or "" for n in mentors.names],
            "Код наставника": mentors.person_ids,
            "Организация": orgs,
            "Мест": scores.capacity,
            "Предложено наставляемых": taken,
            "Свободно мест": scores.capacity - taken,
        }
    )


_COMPONENT_KINDS = {
    "overlap": "доля совпадающих ответов",
    "preference": "насколько один человек подходит под пожелание другого",
    "difference": "разница ответов наставника и наставляемого",
    "level": "уровень ответа",
    "vector": "сходство оценок по нескольким вопросам",
    "text": "сходство свободных ответов (слова)",
    "named": "один назвал другого в анкете (1 — назвал)",
}


def _question(scores: PairScores, side: str, key: str | None) -> str:
    if not key:
        return ""
    part = scores.spec.side(side)
    return f"«{part.question(key).header}»" if part.has(key) else ""


def _notes(scores: PairScores, min_score: float) -> dict[str, dict[str, str]]:
    """What each column means: the legend of the workbook (docs/rules.md#criteria)."""
    total = sum(c.weight for c in scores.spec.components) or 1.0
    pairs = {
        "№": "Номер пары по порядку (по имени наставника).",
        "Наставник": "ФИО наставника из анкеты.",
        "Код наставника": "Адрес электронной почты или код наставника из анкеты.",
        "Организация наставника": "Школа или организация из анкеты наставника.",
        "Наставляемый": "ФИО наставляемого из анкеты.",
        "Код наставляемого": "Адрес электронной почты или код наставляемого из анкеты.",
        "Организация наставляемого": "Школа или организация из анкеты наставляемого; "
        "пара из разных организаций — только дистанционно.",
        "Форма": "Форма наставничества по ролям обоих из анкет (положение, п. 2.3).",
        "Оценка": "Совместимость пары от 0 (ничего общего) до 1 (полное совпадение); с весами "
        "анкеты — взвешенное среднее столбцов справа от «" + DECISION + "» (с моделью "
        "--model — по выученной модели).",
        "Почему эта пара": "Три главные причины оценки, словами.",
        DECISION: "Заполняет куратор: выберите из списка «" + "», «".join(DECISIONS) + "».",
        "Группа": "Группа наставника в этой форме (два наставляемых и больше); пусто — "
        "индивидуально. Состав — на листе «Группы».",
        "Другие наставники": "Другие наставники того же наставляемого (если ему нужно "
        "несколько наставников).",
    }
    for c in scores.spec.components:
        asked = " и ".join(
            q for q in (_question(scores, "mentees", c.mentee), _question(scores, "mentors", c.mentor))
            if q
        )  # fmt: skip
        what = _COMPONENT_KINDS.get(c.kind, "совпадение ответов")
        pairs[c.label] = (
            f"Часть оценки, от 0 до 1 (1 — лучше): {what}"
            + (f"; вопросы {asked}" if asked else "")
            + f". Вес в оценке — {round(100 * c.weight / total)} %."
        )
    floor = f" или все возможные пары ниже {numbers.number(min_score, 3)}" if min_score > 0 else ""
    unmatched = {
        "№": "Номер по порядку: дольше всех ждущие — вверху.",
        "Наставляемый": "ФИО наставляемого из анкеты.",
        "Код наставляемого": "Адрес электронной почты или код из анкеты.",
        "Организация": "Школа или организация из анкеты.",
        "Дата вступления": "Дата вступления в программу из анкеты (иначе — отметка времени).",
        "Дней ожидания": "Сколько дней наставляемый ждёт наставника на дату расчёта.",
        "Срок": f"Наставник назначается не позднее {WAIT_LIMIT_DAYS} дней (положение, п. 3.7): "
        "«осталось N дней» или «просрочено на N дней».",
        "Причина": "Почему пары нет: нет согласия, нет подходящих наставников"
        + floor
        + ", не хватило мест.",
    }
    mentors = {
        "Наставник": "ФИО наставника из анкеты.",
        "Код наставника": "Адрес электронной почты или код из анкеты.",
        "Организация": "Школа или организация из анкеты.",
        "Мест": "Сколько наставляемых наставник готов взять по анкете (не больше 3).",
        "Предложено наставляемых": "Сколько наставляемых ему предложено в этом подборе.",
        "Свободно мест": "Мест осталось после подбора.",
    }
    groups = {
        "Группа": "Номер группы; «индивидуально» — один наставляемый.",
        "Наставник": "ФИО наставника из анкеты.",
        "Код наставника": "Адрес электронной почты или код наставника из анкеты.",
        "Организация наставника": "Школа или организация из анкеты наставника.",
        "Форма": "Форма наставничества группы.",
        "Наставляемых": "Сколько наставляемых в группе.",
        "Наибольшая группа формы": "Наибольший размер группы, который допускает форма.",
        "Срок, мес.": "Срок наставничества в этой форме, месяцев (от и до).",
        "Сплочённость": "Насколько похожи наставляемые группы друг на друга, от 0 до 1 "
        "(пусто — без оценки).",
        "Наставляемые": "ФИО наставляемых группы.",
    }
    return {"pairs": pairs, "unmatched": unmatched, "mentors": mentors, "groups": groups}


_SHEETS = {"pairs": "Пары", "unmatched": "Без пары", "mentors": "Наставники", "groups": "Группы"}
LEGEND = "Пояснения"


def write_proposals(tables: Proposals, path: str | Path) -> list[Path]:
    """Write the tables: one XLSX workbook with a sheet each, or CSV files (UTF-8 with BOM for Excel).

    With a ``.csv`` path the pairs go to it and the other tables to ``<name>-без-пары.csv``,
    ``<name>-наставники.csv`` and ``<name>-группы.csv`` beside it. Returns the paths written.
    """
    path = Path(path)
    frames = {"pairs": tables.pairs, "unmatched": tables.unmatched, "mentors": tables.mentors}
    if tables.groups is not None:
        frames["groups"] = tables.groups
    if path.suffix.lower() == ".csv":
        written = []
        suffixes = {"unmatched": "без-пары", "mentors": "наставники", "groups": "группы"}
        for key, frame in frames.items():
            target = path
            if key != "pairs":
                target = path.with_name(f"{path.stem}-{suffixes[key]}.csv")
            _defused(frame).to_csv(target, index=False, encoding="utf-8-sig")
            written.append(target)
        return written
    _write_xlsx(frames, path, tables.notes)
    return [path]


def _write_xlsx(
    frames: dict[str, pd.DataFrame], path: Path, notes: dict[str, dict[str, str]]
) -> None:
    """One sheet per table and a legend; openpyxl's write-only mode keeps a city's workbook
    fast to write.

    Each table's header is frozen and filtered (an autofilter over the whole table); each
    header cell carries its explanation as a note, and the sheet «Пояснения» lists them all.
    The pairs' «Решение куратора» offers a drop-down list of the decisions.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    for key, frame in frames.items():
        sheet = workbook.create_sheet(_SHEETS[key])
        sheet.freeze_panes = "A2"
        last = get_column_letter(max(1, len(frame.columns)))
        sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
        for column, name in enumerate(frame.columns, start=1):
            longest = max([len(str(name))] + [len(str(v)) for v in frame[name].head(200)])
            sheet.column_dimensions[get_column_letter(column)].width = min(60, max(6, longest + 2))
        if key == "pairs" and DECISION in frame.columns and len(frame):
            sheet.data_validations.append(_decision_list(frame, get_column_letter))
        sheet.append([_header(sheet, str(name), notes.get(key, {})) for name in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append(
                [
                    _text_cell(WriteOnlyCell(sheet, v)) if isinstance(v, str) else v
                    for v in (None if _missing(v) else _plain(v) for v in row)
                ]
            )
    if notes:
        _write_legend(workbook, frames, notes)
    workbook.save(path)


def _header(sheet: Any, name: str, notes: dict[str, str]) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    cell = _text_cell(WriteOnlyCell(sheet, name))
    cell.font = Font(bold=True)
    if name in notes:
        cell.comment = Comment(notes[name], "nastavnik", width=320, height=120)
    return cell


def _decision_list(frame: pd.DataFrame, letter: Any) -> Any:
    """A drop-down list of the curator's decisions over the decision column of every pair."""
    from openpyxl.worksheet.datavalidation import DataValidation

    column = letter(list(frame.columns).index(DECISION) + 1)
    choices = ",".join(DECISIONS)
    validation = DataValidation(
        type="list",
        formula1=f'"{choices}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=DECISION,
        error="Выберите из списка: " + ", ".join(DECISIONS) + ".",
        promptTitle=DECISION,
        prompt="Выберите решение из списка.",
    )
    validation.add(f"{column}2:{column}{len(frame) + 1}")
    return validation


def _write_legend(
    workbook: Any, frames: dict[str, pd.DataFrame], notes: dict[str, dict[str, str]]
) -> None:
    """The sheet «Пояснения»: every column of every table and what it means."""
    from openpyxl.cell import WriteOnlyCell

    sheet = workbook.create_sheet(LEGEND)
    sheet.freeze_panes = "A2"
    for letter, width in (("A", 14), ("B", 34), ("C", 110)):
        sheet.column_dimensions[letter].width = width
    sheet.append([_header(sheet, name, {}) for name in ("Лист", "Столбец", "Что означает")])
    rows = 1
    for key, frame in frames.items():
        for name in frame.columns:
            text = notes.get(key, {}).get(str(name), "")
            sheet.append(
                [_text_cell(WriteOnlyCell(sheet, v)) for v in (_SHEETS[key], str(name), text)]
            )
            rows += 1
    sheet.auto_filter.ref = f"A1:C{rows}"


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(cell: Any) -> Any:
    """Store a text cell as text, never as a formula, whatever its first character."""
    cell.data_type = "s"
    return cell


def _defused(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell that a spreadsheet would run prefixed by ``'`` (OWASP)."""

    def defuse(value: object) -> object:
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            return "'" + value
        return value

    columns = [str(c) for c in frame.columns]
    safe = frame.copy()
    safe.columns = [defuse(c) for c in columns]
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(defuse)
    return safe


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
