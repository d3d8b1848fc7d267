"""The spec's richer constructs, checked as a school using them would: rating vectors, number ranges,
one column for two questions, wishes of one side about the other, free text by words, labels with «;».

``data/alumni.yaml`` uses every one of them; the tests import its CSV exports, score pairs and read the
reasons and errors a curator sees.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from features import ImportFailed, SpecError, load_spec, read_answers, score_pairs
from features.parse import BadAnswer, QuestionParser
from features.spec import Question
from tests.features.util import DATA

ALUMNI_PATH = DATA / "alumni.yaml"
ALUMNI = load_spec(ALUMNI_PATH)
RATINGS = ("Интерес: спорт", "Интерес: искусство", "Интерес: наука", "Интерес: музыка")
RATINGS = (*RATINGS, "Интерес: путешествия")


def raw_alumni() -> dict[str, Any]:
    return yaml.safe_load(ALUMNI_PATH.read_text("utf-8"))


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(raw)
    return caught.value.problems


def student(code: str, ratings: tuple[Any, ...] = (5, 5, 5, 5, 5), **cells: Any) -> dict[str, Any]:
    row = {"Код": code, "ФИО": f"Студент {code}", "Курс": "2", "Согласие": "да"}
    row |= dict(zip(RATINGS, ratings, strict=True))
    return row | cells


def graduate(code: str, ratings: tuple[Any, ...] = (5, 5, 5, 5, 5), **cells: Any) -> dict[str, Any]:
    row = {"Код": code, "ФИО": f"Выпускник {code}", "Возраст": "35", "Согласие": "да"}
    row |= {"Сколько студентов возьмёте?": "2"}
    row |= dict(zip(RATINGS, ratings, strict=True))
    return row | cells


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False, sep=";").encode("utf-8")


def read(rows: list[dict[str, Any]], side: str) -> Any:
    return read_answers(as_csv(rows), ALUMNI, side, filename=f"{side}.csv")


def scored(students: list[dict[str, Any]], graduates: list[dict[str, Any]]) -> Any:
    return score_pairs(ALUMNI, read(graduates, "mentors"), read(students, "mentees"))


def issues_of(rows: list[dict[str, Any]], side: str) -> list[tuple[Any, ...]]:
    with pytest.raises(ImportFailed) as caught:
        read(rows, side)
    return [(i.row, i.column, i.value, i.message) for i in caught.value.issues]


# ----------------------------------------------------------------------------- the spec


def test_the_alumni_spec_uses_every_new_construct() -> None:
    kinds = {c.kind for c in ALUMNI.components}
    assert {"vector", "preference", "text"} <= kinds
    assert {c.on_side for c in ALUMNI.components if c.kind == "preference"} == {
        "mentees",
        "mentors",
    }
    assert any(c.importance for c in ALUMNI.components)
    assert ALUMNI.mentors.question("age").bins
    field = ALUMNI.mentees.question("major_field")
    assert (field.same_column_as, field.header) == ("major", "Специальность")
    assert ALUMNI.mentees.question("skills").separator == "|"


def test_shipped_specs_still_load_unchanged() -> None:
    for name in ("teacher", "pupil"):
        spec = load_spec(name)
        assert all(
            c.kind in ("overlap", "difference", "level", "text", "named") for c in spec.components
        )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda raw: raw["components"][0].update(mentor_questions=["r_sport", "r_art"]),
            "components[0] (ratings): у наставляемого 5 вопросов, у наставника 2; списки "
            "сравниваются попарно и должны быть одной длины",
        ),
        (
            lambda raw: raw["components"][0].update(mentee_questions=["r_sport", "major"]),
            "components[0] (ratings).mentee_questions: вопрос «major» должен давать число",
        ),
        (
            lambda raw: raw["components"][0].update(mentee_questions=["r_sport"], min_common=1),
            "components[0] (ratings).mentee_questions: нужен список хотя бы из двух числовых вопросов",
        ),
        (
            lambda raw: raw["components"][0].update(min_common=6),
            "components[0] (ratings).min_common: больше, чем вопросов в списке (5)",
        ),
        (
            lambda raw: raw["components"][0].update(measure="cover"),
            "components[0] (ratings).measure: у составляющей vector мера: pearson, cosine",
        ),
        (
            lambda raw: raw["components"][1].update(measure="pearson"),
            "components[1] (field).measure: у составляющей overlap мера: cover, jaccard, any, count",
        ),
        (
            lambda raw: raw["components"][3].pop("side"),
            "components[3] (gender_wish).side: укажите, чьё это пожелание: mentees (наставляемый "
            "хочет) или mentors (наставник хочет)",
        ),
        (
            lambda raw: raw["components"][3].update(importance="major"),
            "components[3] (gender_wish).importance: вопрос «major» должен давать число",
        ),
        (
            lambda raw: raw["components"][3].update(importance="r_cooking"),
            "components[3] (gender_wish).importance: в анкете наставляемых нет вопроса «r_cooking»",
        ),
        (
            lambda raw: raw["components"][5].update(importance="capacity_missing"),
            "components[5] (course_wish).importance: в анкете наставников нет вопроса "
            "«capacity_missing»",
        ),
        (
            lambda raw: raw["mentors"]["questions"][3].pop("bins"),
            "components[4] (age_wish): у числа «age» нужны диапазоны (bins), чтобы сравнивать его",
        ),
        (
            lambda raw: raw["mentors"]["questions"][3]["bins"].append(
                {"key": "odd", "label": "странно", "min": 50, "max": 40}
            ),
            "mentors.questions[3] (age): bins[3] (odd): min (50) больше max (40)",
        ),
        (
            lambda raw: raw["mentors"]["questions"][3]["bins"].append({"key": "x", "label": "x"}),
            "mentors.questions[3] (age): bins[3] (x): укажите границу min и/или max",
        ),
        (
            lambda raw: raw["mentees"]["questions"][8].update(
                bins=[{"key": "a", "label": "a", "min": 1}]
            ),
            "mentees.questions[8] (major): диапазоны (bins) бывают только у числа или шкалы без строк",
        ),
        (
            lambda raw: raw["mentees"]["questions"][9].update(same_column_as="majr"),
            "mentees.questions[9].same_column_as: нет другого вопроса с ключом «majr»",
        ),
        (
            lambda raw: raw["mentees"]["questions"][9].update(header="Направление"),
            "mentees.questions[9].same_column_as: укажите либо header, либо same_column_as, не оба",
        ),
        (
            lambda raw: raw["mentees"]["questions"][15].update(separator=","),
            "mentees.questions[15] (skills): ответ «Публичные выступления, презентации» содержит "
            "разделитель «,»: такой ответ нельзя ввести; выберите другой разделитель",
        ),
        (
            lambda raw: raw["mentees"]["questions"][14].update(separator="|", type="single"),
            "mentees.questions[14] (topics): разделитель (separator) бывает только у вопроса с "
            "несколькими ответами (multi)",
        ),
        (
            lambda raw: raw["components"][2].update(mentee="topics"),
            "components[2] (words): у вопроса «topics» нет свободных ответов (other: true); "
            "сравнивайте его составляющей overlap",
        ),
        (
            lambda raw: raw["components"][1].update(tokens="words"),
            "components[1] (field).tokens: способ разбора текста (tokens) бывает только у "
            "составляющей text",
        ),
        (
            lambda raw: raw["components"][1].update(side="mentors"),
            "components[1] (field).side: сторона (side) бывает только у составляющих level и "
            "preference",
        ),
    ],
)
def test_a_mistake_in_a_new_construct_is_named_with_its_place(change: Any, problem: str) -> None:
    raw = copy.deepcopy(raw_alumni())
    change(raw)
    problems = problems_of(raw)
    assert problem in problems, problems


def test_a_spec_written_back_as_data_loads_the_same() -> None:
    assert load_spec(ALUMNI.model_dump()) == ALUMNI


def test_several_mistakes_are_listed_at_once() -> None:
    raw = copy.deepcopy(raw_alumni())
    raw["components"][0]["mentor_questions"] = ["r_sport"]
    raw["components"][3].pop("side")
    raw["mentees"]["questions"][9]["same_column_as"] = "nothing"
    assert len(problems_of(raw)) == 3


def test_two_questions_with_one_header_still_need_same_column_as() -> None:
    raw = copy.deepcopy(raw_alumni())
    field = raw["mentees"]["questions"][9]
    field.pop("same_column_as")
    field["header"] = "Специальность"
    assert problems_of(raw) == [
        "mentees: заголовок столбца «специальность» относится к двум вопросам (чтобы второй "
        "вопрос читал тот же столбец, напишите у него same_column_as)"
    ]


# ----------------------------------------------------------------------------- import


def test_one_column_feeds_a_text_and_a_choice_question() -> None:
    students = read(
        [
            student("s1", Специальность="программирование"),
            student("s2", Специальность="Прикладная математика"),
            student("s3"),
        ],
        "mentees",
    )
    assert students.answers("major") == ["программирование", "Прикладная математика", None]
    assert students.answers("major_field") == ["it", "Прикладная математика", None]


def test_labels_with_semicolons_and_commas_are_read_whole() -> None:
    students = read(
        [
            student("s1", Темы="Карьера; поиск работы; Наука"),
            student("s2", Темы="Стартапы, предпринимательство, Карьера; поиск работы"),
            student("s3", Навыки="Анализ данных; статистика|Публичные выступления, презентации"),
        ],
        "mentees",
    )
    assert students.answers("topics") == [["career", "science"], ["career", "startups"], None]
    assert students.answers("skills")[2] == ["data", "speaking"]


def test_an_unknown_answer_names_every_typable_label() -> None:
    issues = issues_of([student("s1", Темы="Карьера; Наука")], "mentees")
    assert issues == [
        (
            2,
            "Темы",
            "Карьера; Наука",
            "ответов «Карьера» нет в списке; допустимые ответы: Карьера; поиск работы, Наука, "
            "Стартапы, предпринимательство",
        )
    ]
    issues = issues_of([student("s1", Навыки="Python, Анализ данных; статистика")], "mentees")
    assert issues[0][3] == (
        "ответов «Python, Анализ данных; статистика» нет в списке; допустимые ответы: Анализ "
        "данных; статистика (или анализ данных), Python, Публичные выступления, презентации "
        "(или выступления)"
    )


def test_a_number_with_ranges_is_checked_as_a_number() -> None:
    issues = issues_of(
        [graduate("g1", Возраст="13 лет"), graduate("g2", Возраст="сорок")], "mentors"
    )
    assert issues == [
        (2, "Возраст", "13 лет", "ожидалось число от 18 до 100"),
        (3, "Возраст", "сорок", "ожидалось число от 18 до 100"),
    ]


def test_an_error_names_the_synonyms_it_accepts() -> None:
    """Regression (issue 15): with «7» spelled also «8», «9», «10», the error for 13 said
    «ожидалось одно из: 0, 7», hiding what else is accepted."""
    question = Question.model_validate(
        {
            "key": "interest",
            "header": "Интерес",
            "type": "likert",
            "choices": [
                {"key": "none", "label": "0", "value": 0},
                {"key": "strong", "label": "7", "value": 1, "synonyms": ["8", "9", "10"]},
            ],
        }
    )
    with pytest.raises(BadAnswer) as caught:
        QuestionParser(question).parse("13")
    assert str(caught.value) == "ожидалось одно из: 0, 7 (или 8, 9, 10)"


# ----------------------------------------------------------------------------- rating vectors


def _pearson_value(a: list[float], b: list[float]) -> float:
    return (1 + float(np.corrcoef(a, b)[0, 1])) / 2


def test_ratings_are_compared_by_correlation_over_the_answered_questions() -> None:
    scores = scored(
        [student("s1", (9, 2, 8, 3, "")), student("s2", (1, 2, 3, "", ""))],
        [
            graduate("g1", (8, 3, 9, 2, 6)),
            graduate("g2", (1, 9, 2, 9, 4)),
            graduate("g3", (5, 5, 5, 5, 5)),
        ],
    )
    value = scores.component_values
    assert value(0, 0)["ratings"] == pytest.approx(
        _pearson_value([9, 2, 8, 3], [8, 3, 9, 2]), abs=1e-5
    )
    assert value(0, 1)["ratings"] == pytest.approx(
        _pearson_value([9, 2, 8, 3], [1, 9, 2, 9]), abs=1e-5
    )
    assert value(0, 0)["ratings"] > 0.9 > 0.1 > value(0, 1)["ratings"]
    # A mentor who rates everything alike has no correlation: the component's «missing» (0.5).
    assert value(0, 2)["ratings"] == 0.5
    # Three questions answered by both: enough for min_common: 3.
    assert value(1, 0)["ratings"] == pytest.approx(_pearson_value([1, 2, 3], [8, 3, 9]), abs=1e-5)
    assert scores.reasons(0, 0, top=1) == [
        "похожие оценки интересов (0,95 по 4 вопросам), оба выше всего ставят: наука, спорт"
    ]


def test_too_few_common_answers_give_the_missing_value() -> None:
    scores = scored([student("s1", (9, 2, "", "", ""))], [graduate("g1", (8, 3, 9, 2, 6))])
    assert scores.component_values(0, 0)["ratings"] == 0.5


def test_cosine_measure_of_ratings() -> None:
    raw = copy.deepcopy(raw_alumni())
    raw["components"][0].update(measure="cosine", min_common=2)
    spec = load_spec(raw)
    students = read_answers(as_csv([student("s1", (9, 2, 8, 3, ""))]), spec, "mentees")
    graduates = read_answers(as_csv([graduate("g1", (8, 3, 9, 2, 6))]), spec, "mentors")
    value = score_pairs(spec, graduates, students).component_values(0, 0)["ratings"]
    a, b = np.array([9, 2, 8, 3.0]), np.array([8, 3, 9, 2.0])
    assert value == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b), abs=1e-5)


def test_complete_ratings_take_the_fast_path_with_the_same_values() -> None:
    rng = np.random.default_rng(3)
    rows = [tuple(int(v) for v in rng.integers(1, 11, 5)) for _ in range(12)]
    students = [student(f"s{k}", r) for k, r in enumerate(rows[:6])]
    graduates = [graduate(f"g{k}", r) for k, r in enumerate(rows[6:])]
    scores = scored(students, graduates)
    for i in range(6):
        for j in range(6):
            a, b = rows[i], rows[6 + j]
            expected = 0.5 if len(set(a)) == 1 or len(set(b)) == 1 else _pearson_value(a, b)
            assert scores.component_values(i, j)["ratings"] == pytest.approx(expected, abs=1e-5)


# ----------------------------------------------------------------------------- wishes


def test_a_students_wish_about_the_mentor_weighted_by_its_importance() -> None:
    wish = {"Кого вы хотите видеть наставником?": "Женщина"}
    scores = scored(
        [
            student("s1", **wish, **{"Насколько это важно (1–5)?": "5"}),
            student("s2", **wish, **{"Насколько это важно (1–5)?": "2"}),
            student("s3", **wish),
            student("s4"),
        ],
        [graduate("g1", Пол="ж"), graduate("g2", Пол="Мужчина")],
    )
    value = scores.component_values
    assert [value(0, 0)["gender_wish"], value(0, 1)["gender_wish"]] == [1.0, 0.0]
    # Importance 2 of 1..5 is a quarter: the value moves a quarter of the way from «missing» (0.5).
    assert [value(1, 0)["gender_wish"], value(1, 1)["gender_wish"]] == pytest.approx([0.625, 0.375])
    # No importance answered: the wish counts fully; no wish: «missing» whoever the mentor is.
    assert [value(2, 0)["gender_wish"], value(2, 1)["gender_wish"]] == [1.0, 0.0]
    assert [value(3, 0)["gender_wish"], value(3, 1)["gender_wish"]] == [0.5, 0.5]
    assert "наставник — женщина, как хотел студент" in scores.reasons(0, 0, top=9)


def test_a_wish_about_a_number_uses_its_ranges() -> None:
    scores = scored(
        [student("s1", **{"Возраст наставника": "до 30 лет, старше 45 лет"})],
        [
            graduate("g1", Возраст="28"),
            graduate("g2", Возраст="40 лет"),
            graduate("g3", Возраст="60"),
        ],
    )
    assert [scores.component_values(0, j)["age_wish"] for j in range(3)] == [1.0, 0.0, 1.0]
    assert "возраст наставника: старше 45 лет, как хотел студент" in scores.reasons(0, 2, top=9)


def test_a_mentors_wish_about_the_student_in_the_other_direction() -> None:
    wants_juniors = {"С какими студентами вы хотите работать?": "1–2 курс"}
    scores = scored(
        [student("s1", Курс="1"), student("s2", Курс="5")],
        [
            graduate("g1", **wants_juniors, **{"Насколько это важно?": "очень важно"}),
            graduate("g2", **wants_juniors, **{"Насколько это важно?": "неважно"}),
        ],
    )
    value = scores.component_values
    assert [value(0, 0)["course_wish"], value(1, 0)["course_wish"]] == [1.0, 0.0]
    # «неважно» is the lowest level: the wish does not move the value from «missing».
    assert [value(0, 1)["course_wish"], value(1, 1)["course_wish"]] == [0.5, 0.5]
    assert "студент: 1–2 курс, как хотел наставник" in scores.reasons(0, 0, top=9)


# ----------------------------------------------------------------------------- free text


def test_free_text_is_compared_by_words_in_russian_and_english() -> None:
    scores = scored(
        [student("s1", Специальность="Программирование на Python, анализ данных")],
        [
            graduate(
                "g1", **{"О себе и работе": "Пишу программы на python, люблю программирование"}
            ),
            graduate("g2", **{"О себе и работе": "Юрист, арбитражные споры"}),
            graduate("g3"),
        ],
    )
    values = [scores.component_values(0, j)["words"] for j in range(3)]
    assert values[0] > 0.3
    assert values[1:] == [0.0, 0.0]
    assert "общие слова в специальности и рассказе о себе: программирование, python" in (
        scores.reasons(0, 0, top=9)
    )


def test_free_answers_of_a_choice_question_can_be_compared_as_text() -> None:
    raw = copy.deepcopy(raw_alumni())
    raw["components"][2].update(mentee="major_field", mentor="major_field")
    spec = load_spec(raw)
    students = read_answers(
        as_csv([student("s1", Специальность="Прикладная математика")]), spec, "mentees"
    )
    graduates = read_answers(
        as_csv([graduate("g1", Специальность="Математика и механика")]), spec, "mentors"
    )
    scores = score_pairs(spec, graduates, students)
    assert scores.component_values(0, 0)["words"] > 0.2


# ----------------------------------------------------------------------------- learning inputs


def test_learning_reads_ranges_and_free_text_words_without_a_vocabulary() -> None:
    from features.encoders import QuestionnaireEncoder

    graduates = read(
        [
            graduate("g1", Возраст="28", **{"О себе и работе": "Программирую на Python"}),
            graduate("g2", Возраст="50", **{"О себе и работе": "программист, python"}),
            graduate("g3", Возраст="40", **{"О себе и работе": "Юрист"}),
        ],
        "mentors",
    )
    encoder = QuestionnaireEncoder(ALUMNI, "mentors", text=True, text_features=1 << 10)
    matrix = encoder.fit(graduates).transform(graduates)
    names = list(encoder.feature_names_)
    assert matrix.shape == (3, len(names))
    assert matrix.format == "csr"
    ranges = matrix[:, [names.index(f"age={k}") for k in ("young", "middle", "senior")]]
    assert ranges.toarray().tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    words = matrix[:, [k for k, n in enumerate(names) if n.startswith("about~h")]]
    similarity = (words @ words.T).toarray()
    assert similarity[0, 1] > 0.3  # «python» in common
    assert similarity[0, 2] == 0.0
    # Without text, the shipped behaviour: a dense matrix with no word columns.
    dense = QuestionnaireEncoder(ALUMNI, "mentors").fit(graduates).transform(graduates)
    assert isinstance(dense, np.ndarray)
    assert dense.shape[1] == sum("~h" not in n for n in names)


def test_every_example_of_the_russian_readme_is_a_valid_spec_part() -> None:
    """The examples in features/specs/README.md load when put into a spec (the alumni one)."""
    from features.spec import DEFAULT_SPECS

    text = (DEFAULT_SPECS / "README.md").read_text("utf-8")
    blocks = [yaml.safe_load(b.split("```", 1)[0]) for b in text.split("```yaml\n")[1:]]
    assert len(blocks) >= 6
    for block in blocks:
        if isinstance(block, dict):
            # A block of top-level sections (forms, cohesion) goes into the shipped pupil spec,
            # whose roles and questions it names.
            raw = yaml.safe_load((DEFAULT_SPECS / "pupil.yaml").read_text("utf-8"))
            forms = {form["key"]: form for form in raw.get("forms", [])}
            forms.update({form["key"]: form for form in block.pop("forms", [])})
            raw["forms"] = list(forms.values())
            raw.update(block)
            load_spec(raw)
            continue
        raw = copy.deepcopy(raw_alumni())
        for part in block:
            if "kind" in part:
                others = [c for c in raw["components"] if c["key"] != part["key"]]
                raw["components"] = [*others, part]
            else:
                questions = raw["mentees"]["questions"]
                raw["mentees"]["questions"] = [q for q in questions if q["key"] != part["key"]]
                raw["mentees"]["questions"].append(part)
        load_spec(raw)
