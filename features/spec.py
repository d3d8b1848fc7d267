"""Questionnaire specs: which column is which question, the forms of mentoring and the score components.

A spec is a data file (YAML or JSON). ``load_spec("teacher")`` and ``load_spec("pupil")`` load the defaults
shipped in ``features/specs/``; a school copies one, changes it and passes its path. Everything wrong in a
spec is reported at once, in Russian, by :class:`SpecError`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from features.text import normalize, render
from matching import MAX_CAPACITY

__all__ = [
    "MAX_GROUP_SIZE",
    "MAX_TERM_MONTHS",
    "SIDES",
    "Choice",
    "Cohesion",
    "Component",
    "Condition",
    "Fields",
    "Form",
    "Question",
    "Side",
    "Spec",
    "SpecError",
    "Term",
    "load_spec",
]

SIDES = ("mentors", "mentees")
DEFAULT_SPECS = Path(__file__).parent / "specs"
MAX_FORMS = 64
MAX_GROUP_SIZE = 30
"""The largest group a spec may allow in any form (a whole class); teacher forms keep 3
(docs/rules.md#group-size)."""
MAX_TERM_MONTHS = 12
"""Mentoring lasts from one month to one year (docs/rules.md#term)."""

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
QuestionType = Literal[
    "text", "single", "multi", "likert", "number", "date", "yesno", "consent", "slots"
]
TYPE_NAMES = {
    "text": "текст",
    "single": "один ответ из списка",
    "multi": "несколько ответов из списка",
    "likert": "шкала",
    "number": "число",
    "date": "дата",
    "yesno": "да/нет",
    "consent": "согласие",
    "slots": "время в неделю",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Model):
    """One allowed answer.

    Attributes
    ----------
    key : str
        Stored value (latin, snake case).
    label : str
        The answer as the form shows it.
    short : str or None
        Short name for reasons («ИКТ» for «ИКТ-компетенции и цифровизация»).
    synonyms : tuple of str
        Other spellings accepted on import.
    patterns : tuple of str
        Regular expressions for spellings too many to list (a class «7А», «7-б», «7 «В» класс»):
        an answer matching one of them in full, after case, spaces and ё are folded, is this choice.
    value : float or None
        Number behind the answer (a Likert level, a category's rank, a class).
    remote : bool
        Choosing this answer means the person accepts remote mentoring.
    hours : tuple of two ints or None
        For a part of the day in a weekly time-slot question: the hours it covers, ``[from, to)``.
    """

    key: Key
    label: str = Field(min_length=1)
    short: str | None = None
    synonyms: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    value: float | None = None
    remote: bool = False
    hours: tuple[int, int] | None = None

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"шаблон «{pattern}» не является регулярным выражением: {error}"
                ) from None
        return patterns

    @property
    def name(self) -> str:
        """The name used in a reason."""
        return self.short or self.label

    def spellings(self) -> Iterator[str]:
        """Every accepted spelling: key, label, short name and synonyms."""
        yield self.key
        yield self.label
        if self.short:
            yield self.short
        yield from self.synonyms


class Bin(_Model):
    """A range of a number that counts as one answer: «сильный интерес» = 7 and above.

    Attributes
    ----------
    key : str
        The answer key the range stands for (compared like a choice key).
    label : str
        Its name for reasons and for the curator.
    min, max : float or None
        Inclusive bounds; a missing bound is open. A number takes the first bin it falls in.
    """

    key: Key
    label: str = Field(min_length=1)
    min: float | None = None
    max: float | None = None

    @property
    def name(self) -> str:
        """The name used in a reason."""
        return self.label

    def holds(self, number: float) -> bool:
        """Whether the number falls in the range."""
        return (self.min is None or number >= self.min) and (self.max is None or number <= self.max)


class Question(_Model):
    """One question of a questionnaire, i.e. one column (a Likert grid: one column per item).

    Attributes
    ----------
    key : str
        Key of the answer in records and frames.
    header : str
        Column header in the export; matched ignoring case, spaces and ё/е. ``aliases`` are other headers.
    type : str
        One of ``text``, ``single``, ``multi``, ``likert``, ``number``, ``date``, ``yesno``, ``consent``,
        ``slots``.
    required : bool
        An empty answer is an import error.
    choices : tuple of Choice
        Allowed answers (``single``, ``multi``), the levels of a ``likert`` scale, the parts of the day of
        ``slots``. In a file, a string names a shared list of the spec's ``choices``.
    items : tuple of Choice
        Rows of a Likert grid: one column ``item_header`` per item, one level per item.
    other : bool
        ``multi``/``single``: answers outside the list are kept as free text instead of rejected.
    min, max : float or None
        Range of a ``number`` or of a numeric ``likert`` scale.
    integer : bool
        A ``number`` must be whole.
    units : tuple of str
        Words allowed after a number (``лет``, ``года``).
    format : {"email"} or None
        A ``text`` answer must look like an e-mail.
    separator : str or None
        ``multi``: the only string that separates answers in a cell (``|``); by default ``,``, ``;``
        and line breaks do, and answers whose labels contain them are still recognised whole.
    bins : tuple of Bin
        ``number`` or a scale without items: ranges that count as answers (thresholds), so the
        number can be compared like a choice (``overlap``, ``preference``) and learned from.
    same_column_as : str or None
        The key of another question of the same side whose column this question reads too (one
        column, two meanings: a free-text answer and a choice with ``other``); its header and aliases
        are taken from that question, so ``header`` is not written.
    """

    key: Key
    header: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    type: QuestionType
    required: bool = False
    description: str = ""
    choices: tuple[Choice, ...] = ()
    items: tuple[Choice, ...] = ()
    item_header: str = "{header} [{item}]"
    other: bool = False
    min: float | None = None
    max: float | None = None
    integer: bool = False
    units: tuple[str, ...] = ()
    format: Literal["email"] | None = None
    separator: str | None = Field(None, min_length=1)
    bins: tuple[Bin, ...] = ()
    same_column_as: Key | None = None

    @property
    def is_grid(self) -> bool:
        """A Likert grid: one column per item."""
        return self.type == "likert" and bool(self.items)

    @property
    def is_numeric(self) -> bool:
        """Answers have a number: a number, a scalar Likert, or a single choice whose answers all have values."""
        if self.type == "number" or (self.type == "likert" and not self.items):
            return True
        return (
            self.type == "single"
            and bool(self.choices)
            and all(c.value is not None for c in self.choices)
        )

    def headers(self) -> list[tuple[str | None, str]]:
        """``(item key, header)`` of every column of the question (item key None for a plain question)."""
        names = (self.header, *self.aliases)
        if not self.is_grid:
            return [(None, name) for name in names]
        return [
            (item.key, self.item_header.format(header=name, item=spelling))
            for item in self.items
            for name in names
            for spelling in (item.label, *item.synonyms)
        ]

    def choice(self, key: str) -> Choice:
        """The answer with this key."""
        for choice in (*self.choices, *self.items):
            if choice.key == key:
                return choice
        raise KeyError(key)

    def bin_of(self, number: float | None) -> str | None:
        """Key of the first range the number falls in, None when none (or no number)."""
        if number is None or number != number:
            return None
        return next((b.key for b in self.bins if b.holds(number)), None)

    @property
    def categories(self) -> list[str]:
        """Keys an answer is compared by: grid items, choices, or the ranges of a number."""
        return [c.key for c in (self.items or self.choices or self.bins)]

    def label_of(self, key: str) -> str:
        """Short name of an answer key for a reason (the key itself when unknown, e.g. a free answer)."""
        try:
            return self.choice(key).name
        except KeyError:
            return next((b.label for b in self.bins if b.key == key), key)


class Fields(_Model):
    """Which question plays which part for the rules and for the service.

    Attributes
    ----------
    id : str
        The question that identifies a person (a code or an e-mail); unique in a file.
    name : str or None
        Full name (ФИО).
    organisation : str or None
        The school or organisation; pairs stay inside one unless both accept remote mentoring.
    role : str or None
        A single choice whose answer keys are the roles named by the spec's forms.
    forms : str or None
        A choice of forms the person accepts (answer keys are form keys); unanswered = any that fits.
    remote : str or None
        A yes/no question, or a choice whose answers flagged ``remote`` mean remote mentoring is fine.
    capacity : str or None
        Mentors: how many mentees they can take (1–3, or up to the largest group of their forms).
    demand : str or None
        Mentees: how many mentors they need (1 by default; docs/rules.md#co-mentors), a number
        question with ``min`` at least 1.
    entry_date : tuple of str
        Date questions; the first one answered is the date the person entered the programme (the wait
        for a mentor counts from it), e.g. ``[entered, submitted]``: the stated date, else the form's
        timestamp.
    age : str or None
        Age in years; under ``adult_age`` a person also needs ``parent_consent``.
    consents : tuple of str
        Consents a person must give to be paired.
    parent_consent : str or None
        Consent of a parent or legal representative, needed for a minor.
    """

    id: Key
    name: Key | None = None
    organisation: Key | None = None
    role: Key | None = None
    forms: Key | None = None
    remote: Key | None = None
    capacity: Key | None = None
    demand: Key | None = None
    entry_date: tuple[Key, ...] = ()
    age: Key | None = None
    consents: tuple[Key, ...] = ()
    parent_consent: Key | None = None
    adult_age: int = Field(18, ge=0)


class Side(_Model):
    """The questionnaire of one side (mentors or mentees)."""

    title: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)
    fields: Fields
    default_capacity: int = Field(1, ge=0, le=MAX_GROUP_SIZE)

    def question(self, key: str) -> Question:
        """The question with this key."""
        for question in self.questions:
            if question.key == key:
                return question
        raise KeyError(key)

    def has(self, key: str | None) -> bool:
        """Whether the side has a question with this key."""
        return key is not None and any(q.key == key for q in self.questions)


class Condition(_Model):
    """An extra rule of a form: an answer, or the mentor's answer minus the mentee's, in ``[min, max]``."""

    label: str
    mentor: Key | None = None
    mentee: Key | None = None
    min: float | None = None
    max: float | None = None


class Term(_Model):
    """The planned term of a pair or group of a form, in months (docs/rules.md#term: one month to
    one year)."""

    min_months: int = Field(1, ge=1, le=MAX_TERM_MONTHS)
    max_months: int = Field(MAX_TERM_MONTHS, ge=1, le=MAX_TERM_MONTHS)


class Form(_Model):
    """A form of mentoring and the roles it pairs (docs/rules.md#forms: «педагог – педагог», two teachers).

    Attributes
    ----------
    max_group : int
        The most mentees one mentor of this form has at once: a group (docs/rules.md#group-size).
        3 by default, the regulation's limit for teachers (docs/rules.md#capacity); a pupil form
        may allow more where the school's Положение says so («ученик – ученик» in a group).
    term : Term
        The planned term of a pair or group of this form.
    """

    key: Key
    label: str
    mentor: tuple[Key, ...] = Field(min_length=1)
    mentee: tuple[Key, ...] = Field(min_length=1)
    conditions: tuple[Condition, ...] = ()
    max_group: int = Field(MAX_CAPACITY, ge=1, le=MAX_GROUP_SIZE)
    term: Term = Term()


class Cohesion(_Model):
    """The group-cohesion term (docs/rules.md#cohesion): mentees of one group alike in ``questions``.

    Attributes
    ----------
    weight : float
        On the scale of the pair scores: a mentee in a full group of mentees alike in every
        question adds ``weight`` to the objective.
    questions : list of str
        Mentee questions compared between two mentees: equal answers (one choice, yes/no), shared
        answers (several choices, time slots: Jaccard) or close numbers (1 - difference / range).
    """

    weight: float = Field(ge=0, le=1)
    questions: tuple[Key, ...] = Field(min_length=1)


class Component(_Model):
    """One part of a pair's score: how a mentee question is compared with a mentor question.

    Attributes
    ----------
    kind : str
        ``overlap``: answers in common (``measure``: ``cover`` = share of the mentee's answers the mentor
        has, weighted by a Likert level; ``jaccard``; ``any``; ``count`` = common answers / ``enough``).
        ``preference``: what one side (``side``) wants against what the other side is; the wanting
        side's question is a choice, the other's a choice or a number with ``bins``; ``measure`` as
        for ``overlap`` (``any`` by default).
        ``difference``: mentor's number minus mentee's, through ``curve``.
        ``level``: one side's number (``side``) through ``curve``.
        ``vector``: similarity of two lists of numeric answers (ratings): ``measure`` ``pearson``
        (correlation r, value (1 + r) / 2) or ``cosine`` (value max(0, cos)), over the questions both
        people answered; fewer than ``min_common`` of them gives ``missing``.
        ``text``: similarity of free-text answers (``tokens``: ``chars`` = character n-grams,
        ``words`` = stemmed Russian and English words, TF-IDF over a hashed vocabulary).
        ``named``: the mentee named this mentor (or the mentor this mentee) in an id question.
    mentee, mentor : str or None
        The questions compared.
    mentee_questions, mentor_questions : list of str
        ``vector``: the numeric questions compared, position by position; without
        ``mentor_questions`` the mentor's questions have the same keys as the mentee's.
    side : {"mentors", "mentees"} or None
        ``level``: whose number (mentors by default); ``preference``: whose wish (required).
    importance : str or None
        ``overlap`` (the mentee's) or ``preference`` (the wanting side's): a numeric question saying
        how much the wish matters; its answer scaled to [0, 1] (its min..max, or its levels) pulls
        the value towards ``missing``: ``missing + importance * (value - missing)``.
    weight : float
        Weight in the score; the score is the weighted mean of the component values.
    curve : list of [x, y] or None
        Piecewise linear map of a number to [0, 1].
    missing : float
        Value when an answer needed by the component is missing.
    min_common : int
        ``vector``: least number of questions both people answered.
    tokens : {"chars", "words"}
        ``text``: how texts are compared.
    reason : str or None
        Russian template of the reason (``{n}``, ``{total}``, ``{items}``, ``{diff}``, ``{mentor}``,
        ``{mentee}``, ``{value}``; ``{n:запрос|запроса|запросов}`` adds the plural form).
    reason_min : float
        The reason is given only when the value reaches this.
    """

    key: Key
    label: str
    kind: Literal["overlap", "preference", "difference", "level", "vector", "text", "named"]
    mentee: Key | None = None
    mentor: Key | None = None
    mentee_questions: tuple[Key, ...] = ()
    mentor_questions: tuple[Key, ...] = ()
    side: Literal["mentors", "mentees"] | None = None
    importance: Key | None = None
    weight: float = Field(ge=0)
    measure: Literal["cover", "jaccard", "any", "count", "pearson", "cosine"] | None = None
    enough: int = Field(1, ge=1)
    curve: tuple[tuple[float, float], ...] | None = None
    missing: float = Field(0.5, ge=0, le=1)
    min_common: int = Field(2, ge=1)
    tokens: Literal["chars", "words"] = "chars"
    reason: str | None = None
    reason_min: float = Field(0.5, ge=0, le=1)

    @property
    def how(self) -> str:
        """The measure, or the kind's default one."""
        defaults = {"overlap": "cover", "preference": "any", "vector": "pearson"}
        return self.measure or defaults.get(self.kind, "")

    @property
    def on_side(self) -> str:
        """``level``: whose number; ``preference``: whose wish (mentors when not said)."""
        return self.side or "mentors"

    def keys(self, side: str) -> tuple[str, ...]:
        """The questions of one side (``"mentees"`` or ``"mentors"``) the component reads."""
        if self.kind == "vector":
            if side == "mentees":
                return self.mentee_questions
            return self.mentor_questions or self.mentee_questions
        value = self.mentee if side == "mentees" else self.mentor
        return () if value is None else (value,)

    def key_of(self, side: str) -> str | None:
        """The question of one side (None when the component has none)."""
        return self.mentee if side == "mentees" else self.mentor


class Spec(_Model):
    """A questionnaire spec: both sides' questions, the forms of mentoring, the score components.

    Load one with :func:`load_spec`; a spec is immutable.
    """

    name: str
    title: str
    version: int = 1
    description: str = ""
    choices: dict[Key, tuple[Choice, ...]] = {}
    forms: tuple[Form, ...] = Field(min_length=1)
    mentors: Side
    mentees: Side
    components: tuple[Component, ...] = Field(min_length=1)
    cohesion: Cohesion | None = None

    @property
    def max_group(self) -> int:
        """The largest group any form allows."""
        return max(form.max_group for form in self.forms)

    def side(self, side: str) -> Side:
        """The ``"mentors"`` or ``"mentees"`` side."""
        if side not in SIDES:
            raise ValueError(f"side must be 'mentors' or 'mentees'. Got {side!r} instead.")
        return self.mentors if side == "mentors" else self.mentees

    def form(self, key: str) -> Form:
        """The form with this key."""
        for form in self.forms:
            if form.key == key:
                return form
        raise KeyError(key)


class SpecError(ValueError):
    """A spec that cannot be used. ``problems`` lists every problem, in Russian, with where it is.

    Attributes
    ----------
    problems : list of str
        Each problem as ``"<place>: <what is wrong>"``.
    source : str
        The spec's file name or name.
    """

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        where = f" «{source}»" if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Ошибки в описании анкеты{where} ({len(self.problems)}):\n{lines}")


def load_spec(source: str | Path | Mapping[str, Any] = "teacher") -> Spec:
    """Load a questionnaire spec.

    Parameters
    ----------
    source : str, Path or mapping
        ``"teacher"`` or ``"pupil"`` (the defaults), a path to a YAML or JSON file, or an already
        parsed mapping.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        Listing every problem of the spec at once, in Russian.

    Examples
    --------
    >>> spec = load_spec("teacher")
    >>> [form.label for form in spec.forms]
    ['педагог – педагог', 'руководитель ОО – педагог', 'работодатель – студент педвуза/колледжа']
    >>> load_spec({"name": "x"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    features.spec.SpecError: Ошибки в описании анкеты «x» (5):
      - title: обязательное поле не указано
    ...
    """
    raw, origin = _read_source(source)
    problems = _resolve_choice_lists(raw)
    problems += _resolve_same_columns(raw)
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as error:
        raise SpecError(problems + _pydantic_problems(error), origin) from None
    problems += list(_check(spec))
    if problems:
        raise SpecError(problems, origin)
    return spec


def _read_source(source: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    if isinstance(source, Mapping):
        raw: Any = dict(source)
        return raw, str(raw.get("name", ""))
    path = Path(source)
    if isinstance(source, str) and (DEFAULT_SPECS / f"{source}.yaml").is_file():
        path = DEFAULT_SPECS / f"{source}.yaml"
    if not path.is_file():
        defaults = ", ".join(sorted(p.stem for p in DEFAULT_SPECS.glob("*.yaml")))
        raise SpecError(
            [f"нет такого файла и нет такой стандартной анкеты (есть: {defaults})"], str(source)
        )
    text = path.read_text(encoding="utf-8-sig")
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise SpecError([f"файл не читается как YAML/JSON: {error}"], path.name) from None
    if not isinstance(raw, dict):
        raise SpecError(["в файле должно быть описание анкеты (словарь полей)"], path.name)
    return raw, path.name


def _resolve_choice_lists(raw: dict[str, Any]) -> list[str]:
    """Replace ``choices: areas`` (a shared list's name) by the list itself."""
    shared = raw.get("choices") or {}
    problems = []
    for side in SIDES:
        questions = (
            (raw.get(side) or {}).get("questions") if isinstance(raw.get(side), dict) else None
        )
        for position, question in enumerate(questions if isinstance(questions, list) else []):
            for field in ("choices", "items"):
                if not isinstance(question, dict) or not isinstance(question.get(field), str):
                    continue
                name = question[field]
                if isinstance(shared, dict) and name in shared:
                    question[field] = shared[name]
                else:
                    problems.append(
                        f"{side}.questions[{position}].{field}: нет общего списка ответов «{name}»"
                    )
                    question[field] = []
    return problems


def _resolve_same_columns(raw: dict[str, Any]) -> list[str]:
    """Give a question with ``same_column_as`` the header and aliases of the question it reads."""
    problems = []
    for side in SIDES:
        questions = (
            (raw.get(side) or {}).get("questions") if isinstance(raw.get(side), dict) else None
        )
        if not isinstance(questions, list):
            continue
        by_key = {q.get("key"): q for q in questions if isinstance(q, dict)}
        for position, question in enumerate(questions):
            if not isinstance(question, dict) or not isinstance(
                question.get("same_column_as"), str
            ):
                continue
            place = f"{side}.questions[{position}].same_column_as"
            source = by_key.get(question["same_column_as"])
            own = question.get("header")
            if own is not None and (source is None or own != source.get("header")):
                # The source's own header again (a dumped spec read back) is no conflict.
                problems.append(f"{place}: укажите либо header, либо same_column_as, не оба")
            if source is None or source is question:
                problems.append(
                    f"{place}: нет другого вопроса с ключом «{question['same_column_as']}»"
                )
            elif source.get("same_column_as") is not None:
                problems.append(
                    f"{place}: вопрос «{source.get('key')}» сам читает чужой столбец; "
                    "укажите вопрос, у которого есть header"
                )
            elif source.get("items"):
                problems.append(f"{place}: у шкалы-таблицы «{source.get('key')}» много столбцов")
            else:
                question.setdefault("header", source.get("header"))
                question.setdefault("aliases", source.get("aliases", []))
            question.setdefault("header", "?")
    return problems


_PYDANTIC_MESSAGES = {
    "missing": "обязательное поле не указано",
    "extra_forbidden": "неизвестное поле",
    "string_pattern_mismatch": "ключ пишется латиницей в нижнем регистре: буквы, цифры, _",
    "string_too_short": "пустая строка",
    "too_short": "пустой список",
    "greater_than_equal": "должно быть не меньше {ge}",
    "less_than_equal": "должно быть не больше {le}",
    "literal_error": "допустимые значения: {expected}",
    "string_type": "ожидалась строка",
    "int_parsing": "ожидалось целое число",
    "int_type": "ожидалось целое число",
    "float_parsing": "ожидалось число",
    "float_type": "ожидалось число",
    "bool_parsing": "ожидалось true или false",
    "bool_type": "ожидалось true или false",
    "list_type": "ожидался список",
    "tuple_type": "ожидался список",
    "dict_type": "ожидался словарь полей",
    "model_type": "ожидался словарь полей",
    "model_attributes_type": "ожидался словарь полей",
}


def _pydantic_problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        place = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"]).lstrip(
            "."
        )
        template = _PYDANTIC_MESSAGES.get(item["type"])
        context = {
            key: f"{value:g}"
            if isinstance(value, int | float)
            else str(value).replace(" or ", " или ")
            for key, value in item.get("ctx", {}).items()
        }
        message = template.format(**context) if template else item["msg"]
        problems.append(f"{place or 'анкета'}: {message}")
    return problems


def _check(spec: Spec) -> Iterator[str]:
    for side_name in SIDES:
        yield from _check_side(spec, side_name)
    yield from _check_forms(spec)
    yield from _check_components(spec)


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def _check_side(spec: Spec, side_name: str) -> Iterator[str]:
    side = spec.side(side_name)
    for key in _duplicates(q.key for q in side.questions):
        yield f"{side_name}: вопрос с ключом «{key}» описан дважды"
    own_headers = (
        normalize(h) for q in side.questions if not q.same_column_as for _, h in q.headers()
    )
    for header in _duplicates(own_headers):
        yield (
            f"{side_name}: заголовок столбца «{header}» относится к двум вопросам "
            "(чтобы второй вопрос читал тот же столбец, напишите у него same_column_as)"
        )
    for position, question in enumerate(side.questions):
        place = f"{side_name}.questions[{position}] ({question.key})"
        for problem in _question_problems(question):
            yield f"{place}: {problem}"
    yield from _check_fields(spec, side_name)


def _question_problems(question: Question) -> Iterator[str]:
    kind = question.type
    if kind in ("single", "multi", "slots") and not question.choices:
        yield f"для типа «{TYPE_NAMES[kind]}» нужен список ответов (choices)"
    if kind == "likert" and not question.choices and (question.min is None or question.max is None):
        yield "для шкалы нужны уровни (choices со значениями value) или границы min и max"
    if kind == "likert" and any(c.value is None for c in question.choices):
        yield "у каждого уровня шкалы должно быть значение value"
    if question.items and kind != "likert":
        yield "строки (items) бывают только у шкалы (likert)"
    if kind == "slots":
        for choice in question.choices:
            if choice.hours is not None and not 0 <= choice.hours[0] < choice.hours[1] <= 24:
                yield f"часы части дня «{choice.label}» должны быть в пределах 0–24, начало раньше конца"
    if question.bins and not (kind == "number" or (kind == "likert" and not question.items)):
        yield "диапазоны (bins) бывают только у числа или шкалы без строк"
    for index, bin_ in enumerate(question.bins):
        if bin_.min is None and bin_.max is None:
            yield f"bins[{index}] ({bin_.key}): укажите границу min и/или max"
        elif bin_.min is not None and bin_.max is not None and bin_.min > bin_.max:
            yield f"bins[{index}] ({bin_.key}): min ({bin_.min:g}) больше max ({bin_.max:g})"
    for key in _duplicates(b.key for b in question.bins):
        yield f"bins: диапазон с ключом «{key}» описан дважды"
    if question.min is not None and question.max is not None and question.min > question.max:
        yield f"min ({question.min:g}) больше max ({question.max:g})"
    if question.format and kind != "text":
        yield "формат (format) бывает только у текстового вопроса"
    if question.separator is not None:
        if kind != "multi":
            yield "разделитель (separator) бывает только у вопроса с несколькими ответами (multi)"
        elif not question.separator.strip():
            yield "разделитель (separator) не может состоять из одних пробелов"
        else:
            for choice in question.choices:
                for spelling in (choice.label, *choice.synonyms):
                    if question.separator in spelling:
                        yield (
                            f"ответ «{spelling}» содержит разделитель «{question.separator}»: "
                            "такой ответ нельзя ввести; выберите другой разделитель"
                        )
    for field, choices in (("choices", question.choices), ("items", question.items)):
        for key in _duplicates(c.key for c in choices):
            yield f"{field}: ответ с ключом «{key}» описан дважды"
        spelled = [normalize(s) for c in choices for s in set(map(normalize, c.spellings()))]
        for spelling in _duplicates(spelled):
            yield f"{field}: написание «{spelling}» относится к двум ответам"


_FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "id": ("text",),
    "name": ("text",),
    "organisation": ("text", "single"),
    "role": ("single",),
    "forms": ("single", "multi"),
    "remote": ("yesno", "consent", "single", "multi"),
    "capacity": ("number", "single"),
    "demand": ("number",),
    "entry_date": ("date",),
    "age": ("number",),
    "consents": ("consent", "yesno"),
    "parent_consent": ("consent", "yesno"),
}


def _check_fields(spec: Spec, side_name: str) -> Iterator[str]:
    side = spec.side(side_name)
    fields = side.fields
    for field, allowed in _FIELD_TYPES.items():
        value = getattr(fields, field)
        for key in value if isinstance(value, tuple) else (value,):
            if key is None:
                continue
            if not side.has(key):
                yield f"{side_name}.fields.{field}: нет вопроса с ключом «{key}»"
                continue
            question = side.question(key)
            if question.type not in allowed:
                names = ", ".join(TYPE_NAMES[t] for t in allowed)
                yield f"{side_name}.fields.{field}: вопрос «{key}» должен быть типа: {names}"
    if side.has(fields.id) and not side.question(fields.id).required:
        yield f"{side_name}.fields.id: вопрос «{fields.id}» должен быть обязательным (required: true)"
    if fields.capacity and side.has(fields.capacity):
        question = side.question(fields.capacity)
        if question.type == "number" and (question.min is None or question.max is None):
            yield f"{side_name}.fields.capacity: у вопроса «{question.key}» нужны границы min и max"
        bounds = [question.min, question.max] + [c.value for c in question.choices]
        top = spec.max_group
        if any(b is not None and not 0 <= b <= top for b in bounds) or (
            question.type == "single" and any(c.value is None for c in question.choices)
        ):
            # top: 3 (docs/rules.md#capacity) unless a form allows groups (#group-size)
            yield f"{side_name}.fields.capacity: наставник может взять от 0 до {top} наставляемых"
    if side.default_capacity > spec.max_group:
        yield (f"{side_name}.default_capacity: не больше наибольшей группы форм ({spec.max_group})")
    if fields.demand and side.has(fields.demand):
        question = side.question(fields.demand)
        if question.type == "number" and (
            question.min is None or question.min < 1 or question.max is None or not question.integer
        ):
            yield (
                f"{side_name}.fields.demand: вопрос «{question.key}» должен быть целым числом "
                "с границами min (не меньше 1) и max"
            )
    if fields.remote and side.has(fields.remote):
        question = side.question(fields.remote)
        if question.type in ("single", "multi") and not any(c.remote for c in question.choices):
            yield (
                f"{side_name}.fields.remote: ни один ответ вопроса «{question.key}» "
                "не отмечен как согласие на дистанционный формат (remote: true)"
            )
    if fields.forms and side.has(fields.forms):
        form_keys = {f.key for f in spec.forms}
        for choice in side.question(fields.forms).choices:
            if choice.key not in form_keys:
                yield f"{side_name}.fields.forms: ответ «{choice.key}» не совпадает ни с одной формой"
    if fields.parent_consent and not fields.age:
        yield f"{side_name}.fields.parent_consent: нужен и вопрос о возрасте (fields.age)"


def _check_forms(spec: Spec) -> Iterator[str]:
    if len(spec.forms) > MAX_FORMS:
        yield f"forms: не больше {MAX_FORMS} форм наставничества"
    for key in _duplicates(f.key for f in spec.forms):
        yield f"forms: форма «{key}» описана дважды"
    for position, form in enumerate(spec.forms):
        place = f"forms[{position}] ({form.key})"
        for side_name, roles in (("mentors", form.mentor), ("mentees", form.mentee)):
            side = spec.side(side_name)
            field = "mentor" if side_name == "mentors" else "mentee"
            if not side.fields.role or not side.has(side.fields.role):
                if roles != ("any",):
                    yield f"{place}.{field}: без вопроса о роли (fields.role) пишите [any]"
                continue
            known = {c.key for c in side.question(side.fields.role).choices}
            for role in roles:
                if role not in known:
                    yield f"{place}.{field}: роли «{role}» нет среди ответов вопроса о роли"
        for index, condition in enumerate(form.conditions):
            yield from _condition_problems(spec, f"{place}.conditions[{index}]", condition)
        if form.term.min_months > form.term.max_months:
            yield (
                f"{place}.term: наименьший срок ({form.term.min_months} мес.) больше "
                f"наибольшего ({form.term.max_months} мес.)"
            )
    if spec.cohesion is not None:
        for index, key in enumerate(spec.cohesion.questions):
            place = f"cohesion.questions[{index}]"
            if not spec.mentees.has(key):
                yield f"{place}: в анкете наставляемого нет вопроса с ключом «{key}»"
            elif spec.mentees.question(key).type in ("text", "date", "consent"):
                yield f"{place}: вопрос «{key}» нельзя сравнивать (текст, дата или согласие)"
            elif spec.mentees.question(key).is_grid:
                yield f"{place}: вопрос-таблица «{key}» не сравнивается"


def _condition_problems(spec: Spec, place: str, condition: Condition) -> Iterator[str]:
    if condition.mentor is None and condition.mentee is None:
        yield f"{place}: укажите вопрос наставника (mentor) и/или наставляемого (mentee)"
    if condition.min is None and condition.max is None:
        yield f"{place}: укажите границу min и/или max"
    for side_name, key in (("mentors", condition.mentor), ("mentees", condition.mentee)):
        yield from _numeric_problems(spec, place, side_name, key)


def _numeric_problems(spec: Spec, place: str, side_name: str, key: str | None) -> Iterator[str]:
    side = spec.side(side_name)
    if key is None:
        return
    if not side.has(key):
        yield f"{place}: в анкете {_side_genitive(side_name)} нет вопроса «{key}»"
    elif not side.question(key).is_numeric:
        yield f"{place}: вопрос «{key}» должен давать число (число, шкала или ответы со значениями value)"


def _side_genitive(side_name: str) -> str:
    return "наставников" if side_name == "mentors" else "наставляемых"


_ITEM_TYPES = ("single", "multi", "likert", "slots")
_TEXT_TYPES = ("text", "single", "multi")
# What each kind of component can put into its reason template (dummy values to try it with).
_REASON_FIELDS: dict[str, dict[str, Any]] = {
    "overlap": {"n": 1, "total": 2, "items": "x"},
    "preference": {"n": 1, "total": 2, "items": "x", "mentor": "x", "mentee": "x"},
    "difference": {"diff": 1.0, "mentor": "x", "mentee": "x"},
    "level": {"items": "x", "mentor": "x", "mentee": "x"},
    "vector": {"value": 0.5, "n": 1, "items": "x"},
    "text": {"items": "x"},
    "named": {"items": "x"},
}
# Measures each kind accepts.
_MEASURES = {
    "overlap": ("cover", "jaccard", "any", "count"),
    "preference": ("cover", "jaccard", "any", "count"),
    "vector": ("pearson", "cosine"),
}


def _check_components(spec: Spec) -> Iterator[str]:
    for key in _duplicates(c.key for c in spec.components):
        yield f"components: составляющая «{key}» описана дважды"
    if not any(c.weight > 0 for c in spec.components):
        yield "components: хотя бы у одной составляющей вес должен быть больше нуля"
    for position, component in enumerate(spec.components):
        place = f"components[{position}] ({component.key})"
        yield from _component_problems(spec, place, component)


def _component_problems(spec: Spec, place: str, component: Component) -> Iterator[str]:
    kind = component.kind
    questions: dict[str, Question] = {}
    for side_name in ("mentees", "mentors"):
        keys = component.keys(side_name)
        field = "mentee" if side_name == "mentees" else "mentor"
        if kind == "vector" and component.key_of(side_name):
            yield f"{place}.{field}: у составляющей vector вопросы перечисляются в {field}_questions"
        listed = (
            component.mentee_questions if side_name == "mentees" else component.mentor_questions
        )
        if kind != "vector" and listed:
            yield f"{place}.{field}_questions: список вопросов бывает только у составляющей vector"
        for key in keys:
            if not spec.side(side_name).has(key):
                yield f"{place}: в анкете {_side_genitive(side_name)} нет вопроса «{key}»"
            elif kind == "vector":
                if not spec.side(side_name).question(key).is_numeric:
                    yield f"{place}.{field}_questions: вопрос «{key}» должен давать число"
            else:
                questions[side_name] = spec.side(side_name).question(key)
    needs_both = kind in ("overlap", "preference", "difference", "text")
    if needs_both and (component.mentee is None or component.mentor is None):
        yield f"{place}: нужны оба вопроса, mentee и mentor"
    if kind == "vector":
        sizes = len(component.keys("mentees")), len(component.keys("mentors"))
        if sizes[0] < 2:
            yield f"{place}.mentee_questions: нужен список хотя бы из двух числовых вопросов"
        elif sizes[0] != sizes[1]:
            yield (
                f"{place}: у наставляемого {sizes[0]} вопросов, у наставника {sizes[1]}; "
                "списки сравниваются попарно и должны быть одной длины"
            )
        elif component.min_common > sizes[0]:
            yield f"{place}.min_common: больше, чем вопросов в списке ({sizes[0]})"
    if kind == "level" and component.on_side == "mentors" and component.mentor is None:
        yield f"{place}: укажите вопрос наставника (mentor)"
    if kind == "level" and component.on_side == "mentees" and component.mentee is None:
        yield f"{place}: укажите вопрос наставляемого (mentee)"
    if kind == "preference" and component.side is None:
        yield (
            f"{place}.side: укажите, чьё это пожелание: mentees (наставляемый хочет) "
            "или mentors (наставник хочет)"
        )
    if component.side is not None and kind not in ("level", "preference"):
        yield f"{place}.side: сторона (side) бывает только у составляющих level и preference"
    if kind == "named" and component.mentee is None and component.mentor is None:
        yield f"{place}: укажите вопрос mentee и/или mentor, где называют человека"
    if kind in ("difference", "level") and component.curve is None:
        yield f"{place}: нужна кривая curve: [[x, y], ...]"
    if component.measure is not None and component.measure not in _MEASURES.get(kind, ()):
        allowed = ", ".join(_MEASURES.get(kind, ())) or "не бывает"
        yield f"{place}.measure: у составляющей {kind} мера: {allowed}"
    if component.tokens != "chars" and kind != "text":
        yield f"{place}.tokens: способ разбора текста (tokens) бывает только у составляющей text"
    yield from _importance_problems(spec, place, component)
    if component.curve is not None:
        xs = [x for x, _ in component.curve]
        if len(xs) < 2 or any(b <= a for a, b in itertools.pairwise(xs)):
            yield f"{place}.curve: нужно не меньше двух точек с возрастающими x"
        if any(not 0 <= y <= 1 for _, y in component.curve):
            yield f"{place}.curve: значения y должны быть от 0 до 1"
    yield from _component_types(place, component, questions)
    if component.reason is not None:
        fields = _REASON_FIELDS[component.kind]
        try:
            render(component.reason, fields)
        except (KeyError, IndexError, ValueError) as error:
            names = ", ".join("{" + name + "}" for name in fields)
            yield f"{place}.reason: шаблон не подходит ({error}); доступны {names}"


def _importance_problems(spec: Spec, place: str, component: Component) -> Iterator[str]:
    if component.importance is None:
        return
    if component.kind not in ("overlap", "preference"):
        yield f"{place}.importance: важность бывает только у составляющих overlap и preference"
        return
    if component.kind == "preference" and component.side is None:
        return  # whose importance it is follows from side, reported missing above
    side_name = component.on_side if component.kind == "preference" else "mentees"
    side = spec.side(side_name)
    if not side.has(component.importance):
        yield (
            f"{place}.importance: в анкете {_side_genitive(side_name)} нет вопроса "
            f"«{component.importance}»"
        )
        return
    question = side.question(component.importance)
    if not question.is_numeric:
        yield f"{place}.importance: вопрос «{question.key}» должен давать число"
    elif importance_range(question) is None:
        yield (
            f"{place}.importance: у вопроса «{question.key}» нужны границы min и max "
            "(или уровни со значениями value), чтобы перевести важность в долю"
        )


def importance_range(question: Question) -> tuple[float, float] | None:
    """Lowest and highest answer of a numeric question (its levels' values, or min and max)."""
    values = [c.value for c in question.choices if c.value is not None]
    if values and max(values) > min(values):
        return min(values), max(values)
    if question.min is not None and question.max is not None and question.max > question.min:
        return question.min, question.max
    return None


def _component_types(
    place: str, component: Component, questions: dict[str, Question]
) -> Iterator[str]:
    kind = component.kind
    for side_name, question in questions.items():
        wanted: tuple[str, ...] = ()
        binned = bool(question.bins)
        if kind == "overlap" or (kind == "preference" and side_name == component.on_side):
            wanted = _ITEM_TYPES
        elif kind == "preference":
            wanted = (*_ITEM_TYPES, "number")
        elif kind == "text":
            wanted = _TEXT_TYPES
        elif kind == "named":
            wanted = ("text",)
        if kind in ("overlap", "preference") and question.type == "likert" and not question.items:
            if not binned:
                yield (
                    f"{place}: у шкалы «{question.key}» нужны строки (items) или диапазоны (bins), "
                    "чтобы сравнивать ответы"
                )
            continue
        if kind == "preference" and question.type == "number" and not binned:
            yield f"{place}: у числа «{question.key}» нужны диапазоны (bins), чтобы сравнивать его"
            continue
        if kind == "overlap" and question.type == "number" and binned:
            continue
        if wanted and question.type not in wanted:
            names = ", ".join(TYPE_NAMES[t] for t in wanted)
            yield f"{place}: вопрос «{question.key}» должен быть типа: {names}"
        if kind == "text" and question.type != "text" and not question.other:
            yield (
                f"{place}: у вопроса «{question.key}» нет свободных ответов (other: true); "
                "сравнивайте его составляющей overlap"
            )
        if kind in ("difference", "level") and not question.is_numeric:
            yield f"{place}: вопрос «{question.key}» должен давать число"
    if kind in ("overlap", "preference") and len(questions) == 2:
        mentee_keys = _item_keys(questions["mentees"])
        mentor_keys = _item_keys(questions["mentors"])
        if mentee_keys and mentor_keys and not mentee_keys & mentor_keys:
            yield f"{place}: у вопросов «{component.mentee}» и «{component.mentor}» нет общих ответов"


def _item_keys(question: Question) -> set[str]:
    return set(question.categories)
