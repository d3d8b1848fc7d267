"""Turn one cell (or one stored record value) into the canonical answer to a question.

Canonical answers: ``text`` str; ``single`` choice key (or the free text when ``other``); ``multi`` and
``slots`` a list of keys in the spec's order; ``likert`` a float (a grid: dict item key -> float);
``number`` float (int when ``integer``); ``date`` ``datetime.date``; ``yesno``/``consent`` bool;
a missing answer is None. Parsers accept both what a form service exports and the canonical values
themselves, so records stored by the service are validated the same way on the way back.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from features.numbers import number
from features.spec import Choice, Question
from features.text import normalize

__all__ = ["DAYS", "BadAnswer", "QuestionParser", "is_blank", "slot_key"]


class BadAnswer(ValueError):
    """An answer that does not fit its question; the message says what was expected, in Russian."""


def is_blank(raw: object) -> bool:
    """An empty cell: None, NaN, or only spaces."""
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and not raw.strip()


def cell_text(raw: object) -> str:
    """A cell as the curator sees it (``7`` rather than ``7.0``)."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.strftime("%d.%m.%Y %H:%M:%S").removesuffix(" 00:00:00")
    if isinstance(raw, dt.date):
        return raw.strftime("%d.%m.%Y")
    return str(raw).strip()


DAYS: tuple[tuple[str, str], ...] = (
    ("mon", "пн"),
    ("tue", "вт"),
    ("wed", "ср"),
    ("thu", "чт"),
    ("fri", "пт"),
    ("sat", "сб"),
    ("sun", "вс"),
)
_DAY_PREFIXES = {"пон": 0, "вто": 1, "сре": 2, "чет": 3, "пят": 4, "суб": 5, "вос": 6}
_DAY_ABBREVIATIONS = {short: i for i, (_, short) in enumerate(DAYS)}
_DAY_GROUPS = {"будн": range(5), "выходн": range(5, 7), "ежедн": range(7), "любой": range(7)}
_FILLERS = frozenset(
    ("в", "во", "по", "и", "с", "со", "до", "после", "любое", "время", "каждый", "день", "дни")
)
_HOURS = re.compile(r"(\d{1,2})(?::\d{2})?\s*(?:-|–|—|до)\s*(\d{1,2})(?::\d{2})?")
_WORDS = re.compile(r"[a-zа-я]+")
_YES = {"да", "yes", "true", "1", "+", "согласен", "согласна", "согласен(на)", "согласие дано", "v"}
_NO = {"нет", "no", "false", "0", "-", "не согласен", "не согласна", "не согласен(на)", "не даю"}
_YES_PREFIXES = ("я согла", "даю согласие", "я даю согласие", "согласен", "согласна", "да,")
_DATE_FORMATS = (
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%y",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def slot_key(day: int, part: Choice) -> str:
    """Key of a weekly time slot, e.g. ``mon_evening`` (one string object for every person's
    answer: a region's answers hold hundreds of thousands)."""
    return sys.intern(f"{DAYS[day][0]}_{part.key}")


def _listing(labels: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" и ещё {len(labels) - limit}" if len(labels) > limit else "")


def accepted_spellings(choice: Choice, limit: int = 3) -> str:
    """An answer as an error names it: the label, then the other spellings a curator may type.

    Keys are left out (they are for stored records, not for a form), and so are spellings that only
    differ from the label in case, spaces or ё.

    Examples
    --------
    >>> accepted_spellings(Choice(key="high", label="7", synonyms=("8", "9", "10")))
    '7 (или 8, 9, 10)'
    >>> accepted_spellings(Choice(key="no", label="нет", synonyms=("Нет", "никогда")))
    'нет (или никогда)'
    """
    seen = {normalize(choice.label)}
    others = []
    for spelling in (choice.short or "", *choice.synonyms):
        folded = normalize(spelling)
        if folded and folded not in seen:
            seen.add(folded)
            others.append(spelling)
    if not others:
        return choice.label
    shown = ", ".join(others[:limit]) + (", …" if len(others) > limit else "")
    return f"{choice.label} (или {shown})"


class QuestionParser:
    """Parses answers to one question; built once per import, then called per distinct value."""

    def __init__(self, question: Question) -> None:
        self.question = question
        self.choices = {normalize(s): c.key for c in question.choices for s in c.spellings()}
        self.order = {c.key: i for i, c in enumerate(question.choices)}
        self.levels = {normalize(s): c.value for c in question.choices for s in c.spellings()}
        self.items = {normalize(s): c.key for c in question.items for s in c.spellings()}
        self.patterns = [(re.compile(p), c.key) for c in question.choices for p in c.patterns]
        spellings = sorted(self.choices_index(question), key=lambda pair: -len(pair[0]))
        self.part_of = dict(spellings)
        alternatives = "|".join(re.escape(s) for s, _ in spellings) or "(?!)"
        self.part_pattern = re.compile(rf"(?<![a-zа-я])({alternatives})(?![a-zа-я])")
        self.pieces: dict[str, set[str] | BadAnswer] = {}
        self.date_formats = list(_DATE_FORMATS)
        parsers: dict[str, Callable[[Any], Any]] = {
            "text": self._text,
            "single": self._single,
            "multi": self._multi,
            "likert": self._likert,
            "number": self._number,
            "date": self._date,
            "yesno": self._yesno,
            "consent": self._yesno,
            "slots": self._slots,
        }
        self.parse_value = parsers[question.type]

    @staticmethod
    def choices_index(question: Question) -> list[tuple[str, int]]:
        """Normalised spelling -> position of each choice (parts of the day of a slots question)."""
        return [
            (spelling, i)
            for i, choice in enumerate(question.choices)
            for spelling in {normalize(s) for s in choice.spellings()}
        ]

    def parse(self, raw: object) -> Any:
        """Canonical answer, None when blank; :class:`BadAnswer` when it does not fit."""
        if is_blank(raw) or (isinstance(raw, list | tuple | dict) and not raw):
            return None
        return self.parse_value(raw)

    def _text(self, raw: object) -> str:
        text = cell_text(raw)
        if self.question.format == "email" and not _EMAIL.match(text):
            raise BadAnswer("ожидался адрес электронной почты, например name@school.ru")
        return text

    def _labels(self) -> str:
        return _listing([accepted_spellings(c) for c in self.question.choices])

    def _single(self, raw: object) -> str:
        text = cell_text(raw)
        folded = normalize(text)
        key = self.choices.get(folded)
        if key is None:
            key = next((k for pattern, k in self.patterns if pattern.fullmatch(folded)), None)
        if key is not None:
            return key
        found, _ = self._split(text)
        if len(found) > 1:
            raise BadAnswer("выбрано несколько ответов, а нужен один")
        if self.question.other:
            return text
        raise BadAnswer(f"такого ответа нет в списке; ожидался один из: {self._labels()}")

    def _multi(self, raw: object) -> list[str]:
        if isinstance(raw, list | tuple):
            found, unknown = [], []
            for item in raw:
                key = self.choices.get(normalize(cell_text(item)))
                (found.append(key) if key is not None else unknown.append(cell_text(item)))
        else:
            found, unknown = self._split(cell_text(raw))
        if unknown and not self.question.other:
            names = ", ".join(f"«{u}»" for u in unknown)
            raise BadAnswer(f"ответов {names} нет в списке; допустимые ответы: {self._labels()}")
        keys = sorted(set(found), key=self.order.__getitem__)
        return keys + [u for u in dict.fromkeys(unknown) if u not in keys]

    def _split(self, text: str) -> tuple[list[str], list[str]]:
        """Known answers and unknown pieces of a multiple-choice cell.

        Form services join the chosen answers with commas or ``;``, and answers may contain commas
        and ``;`` themselves, so pieces are joined back (the longest run first) while they spell a
        known answer: every label can be typed. A question's own ``separator`` splits on it alone.
        """
        separator = self.question.separator
        if separator is not None:
            pieces = [p.strip() for p in text.split(separator)]
            found = [self.choices[normalize(p)] for p in pieces if normalize(p) in self.choices]
            unknown = [p for p in pieces if p and normalize(p) not in self.choices]
            return found, unknown
        spans = [m.span() for m in re.finditer(r"[^;,\n]+", text)]
        found, unknown = [], []
        start = 0
        while start < len(spans):
            for end in range(len(spans), start, -1):
                key = self.choices.get(normalize(text[spans[start][0] : spans[end - 1][1]]))
                if key is not None:
                    found.append(key)
                    start = end
                    break
            else:
                piece = text[spans[start][0] : spans[start][1]].strip()
                if piece:
                    unknown.append(piece)
                start += 1
        return found, unknown

    def _likert(self, raw: object) -> float | dict[str, float]:
        if not self.question.items:
            return self._level(raw)
        if not isinstance(raw, Mapping):
            raise BadAnswer("ожидались оценки по строкам шкалы")
        levels: dict[str, float] = {}
        for item, value in raw.items():
            key = self.items.get(normalize(item))
            if key is None:
                raise BadAnswer(f"строки «{item}» нет в шкале")
            if not is_blank(value):
                levels[key] = self._level(value)
        return levels

    def _level(self, raw: object) -> float:
        text = cell_text(raw)
        level = self.levels.get(normalize(text))
        if level is not None:
            return level
        lowest, highest = self.question.min, self.question.max
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            number = math.nan
        if lowest is not None and highest is not None and lowest <= number <= highest:
            return number
        if number in self.levels.values():
            return number
        expected = [accepted_spellings(c) for c in self.question.choices]
        if lowest is not None and highest is not None:
            expected.append(f"число от {_bound(lowest)} до {_bound(highest)}")
        raise BadAnswer(f"ожидалось одно из: {', '.join(expected)}")

    def _number(self, raw: object) -> float | int:
        question = self.question
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            text = normalize(cell_text(raw)).replace(",", ".")
            for unit in sorted(map(normalize, question.units), key=len, reverse=True):
                text = text.removesuffix(unit).strip()
            try:
                raw = float(text)
            except ValueError:
                raise BadAnswer(self._number_expected()) from None
        number = float(raw)
        if not math.isfinite(number) or (question.integer and not number.is_integer()):
            raise BadAnswer(self._number_expected())
        if (question.min is not None and number < question.min) or (
            question.max is not None and number > question.max
        ):
            raise BadAnswer(self._number_expected())
        return int(number) if question.integer else number

    def _number_expected(self) -> str:
        question = self.question
        kind = "целое число" if question.integer else "число"
        if question.min is not None and question.max is not None:
            return f"ожидалось {kind} от {_bound(question.min)} до {_bound(question.max)}"
        if question.min is not None:
            return f"ожидалось {kind} не меньше {_bound(question.min)}"
        if question.max is not None:
            return f"ожидалось {kind} не больше {_bound(question.max)}"
        return f"ожидалось {kind}"

    def _date(self, raw: object) -> dt.date:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = cell_text(raw)
        for position, pattern in enumerate(self.date_formats):
            try:
                parsed = dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
            if position:
                # A file uses one format throughout: try it first for the next cells.
                self.date_formats.insert(0, self.date_formats.pop(position))
            return parsed
        raise BadAnswer("ожидалась дата в виде ДД.ММ.ГГГГ, например 01.09.2024")

    def _yesno(self, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        text = normalize(cell_text(raw))
        if text in _NO or text.startswith(("не ", "нет")):
            return False
        if text in _YES or text.startswith(_YES_PREFIXES):
            return True
        if self.question.type == "consent":
            raise BadAnswer("ожидалось «да» (согласие дано) или «нет»")
        raise BadAnswer("ожидалось «да» или «нет»")

    def _slots(self, raw: object) -> list[str]:
        parts = self.question.choices
        if isinstance(raw, list | tuple):
            known = {slot_key(d, p) for d in range(len(DAYS)) for p in parts}
            wrong = [str(s) for s in raw if s not in known]
            if wrong:
                raise BadAnswer(f"неизвестное время: {', '.join(wrong)}")
            chosen = set(raw)
        else:
            chosen = set()
            for piece in re.split(r"[;,\n]+", normalize(cell_text(raw))):
                found = self.pieces.get(piece)
                if found is None:
                    try:
                        found = self._slot_piece(piece)
                    except BadAnswer as error:
                        found = error
                    self.pieces[piece] = found
                if isinstance(found, BadAnswer):
                    raise found
                chosen |= found
        return [slot_key(d, p) for d in range(len(DAYS)) for p in parts if slot_key(d, p) in chosen]

    def _slot_piece(self, piece: str) -> set[str]:
        parts = self.question.choices
        chosen_parts: set[int] = set()
        for match in _HOURS.finditer(piece):
            start, end = int(match[1]), int(match[2])
            for index, part in enumerate(parts):
                if part.hours and part.hours[0] < end and start < part.hours[1]:
                    chosen_parts.add(index)
        piece = _HOURS.sub(" ", piece)
        chosen_parts.update(self.part_of[m] for m in self.part_pattern.findall(piece))
        piece = self.part_pattern.sub(" ", piece)
        days: set[int] = set()
        for word in _WORDS.findall(piece):
            found = _day_numbers(word)
            if found is None and word not in _FILLERS:
                raise BadAnswer(
                    f"не удалось разобрать «{word}»: ожидались дни недели и время дня, "
                    f"например «пн вечер; ср {parts[-1].label}»"
                )
            days |= found or set()
        if not days and not chosen_parts:
            return set()
        if not days:
            raise BadAnswer("указано время, но не указан день недели, например «пн вечер»")
        indices = chosen_parts or set(range(len(parts)))
        return {slot_key(d, parts[i]) for d in days for i in indices}


def _day_numbers(word: str) -> set[int] | None:
    if word in _DAY_ABBREVIATIONS:
        return {_DAY_ABBREVIATIONS[word]}
    if word[:3] in _DAY_PREFIXES:
        return {_DAY_PREFIXES[word[:3]]}
    for prefix, days in _DAY_GROUPS.items():
        if word.startswith(prefix):
            return set(days)
    return None


def _bound(value: float) -> str:
    """A question's bound as a curator reads it: «0,5», «40», a year «1940» (no groups)."""
    return number(value, 2, group=False)
