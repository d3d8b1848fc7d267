"""Import of questionnaire exports: every encoding, separator and XLSX; every problem with its place."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from features import (
    Answers,
    ImportFailed,
    ImportIssue,
    answers_from_records,
    load_spec,
    read_answers,
)
from features.parse import BadAnswer, QuestionParser
from tests.features.util import EXAMPLES, teacher_mentee, teacher_mentor

TEACHER = load_spec("teacher")
PUPIL = load_spec("pupil")


def example_table(name: str) -> pd.DataFrame:
    return pd.read_csv(
        EXAMPLES / "teachers" / name, dtype=str, keep_default_na=False, encoding="utf-8"
    )


def csv_bytes(table: pd.DataFrame, encoding: str = "utf-8", sep: str = ",") -> bytes:
    return table.to_csv(index=False, sep=sep).encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def issues_of(data: Any, side: str = "mentors", spec: Any = TEACHER) -> list[tuple[Any, ...]]:
    with pytest.raises(ImportFailed) as caught:
        read_answers(data, spec, side, filename="file.csv")
    return [(i.row, i.column, i.value, i.message) for i in caught.value.issues]


MENTOR_HEADERS = {
    "person_id": "Адрес электронной почты",
    "full_name": "ФИО",
    "position": "Должность",
    "subjects": "Преподаваемые предметы",
    "experience": "Педагогический стаж (лет)",
    "competences": "В каких областях вы можете помочь коллеге?",
    "meeting_format": "Удобный формат встреч",
    "capacity": "Сколько наставляемых вы готовы взять (1–3)?",
    "free_time": "Удобное время для встреч",
    "submitted": "Отметка времени",
    "consent": "Согласие на обработку персональных данных",
}
GOOD_MENTOR = {
    "person_id": "petrov@school.example",
    "full_name": "Петров Пётр Петрович",
    "position": "Учитель",
    "subjects": "Физика, Математика",
    "experience": "15",
    "competences": "Методика: содержание образования, методики и технологии обучения, ИКТ",
    "meeting_format": "Очно",
    "capacity": "2",
    "free_time": "пн вечер; ср после уроков",
    "submitted": "02.09.2024 10:15:00",
    "consent": "Да",
}


def mentor_rows(*rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{MENTOR_HEADERS[k]: v for k, v in (GOOD_MENTOR | row).items()} for row in rows]
    )


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("side", ["mentors", "mentees"])
def test_every_encoding_and_separator_reads_the_same(encoding: str, sep: str, side: str) -> None:
    reference = read_answers(EXAMPLES / "teachers" / f"{side}.csv", TEACHER, side)
    data = csv_bytes(example_table(f"{side}.csv"), encoding, sep)
    answers = read_answers(data, TEACHER, side, filename=f"{side}.csv")
    assert answers.records == reference.records
    assert answers.rows == reference.rows


def test_excel_unicode_text_is_utf16_with_tabs() -> None:
    reference = read_answers(EXAMPLES / "teachers" / "mentees.csv", TEACHER, "mentees")
    data = example_table("mentees.csv").to_csv(index=False, sep="\t").encode("utf-16")
    assert read_answers(data, TEACHER, "mentees").records == reference.records


def test_xlsx_with_typed_cells_reads_like_the_csv() -> None:
    reference = read_answers(EXAMPLES / "teachers" / "mentors.csv", TEACHER, "mentors")
    table = example_table("mentors.csv")
    rows: list[list[Any]] = [list(table.columns)]
    for values in table.itertuples(index=False):
        row: list[Any] = list(values)
        stamp, experience = row[0], row[6]
        row[0] = dt.datetime.strptime(stamp, "%d.%m.%Y %H:%M:%S")
        row[6] = float(experience) if experience.replace(".", "").isdigit() else experience
        rows.append(row)
    answers = read_answers(xlsx_bytes(rows), TEACHER, "mentors", filename="mentors.xlsx")
    assert answers.records == reference.records


def test_pupil_example_is_windows_1251_with_semicolons() -> None:
    raw = (EXAMPLES / "pupils" / "mentees.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    answers = read_answers(raw, PUPIL, "mentees", filename="mentees.csv")
    assert len(answers) > 10
    assert all(pid.startswith("У-") for pid in answers.person_ids)


def test_records_rebuild_the_same_answers() -> None:
    answers = read_answers(EXAMPLES / "teachers" / "mentees.csv", TEACHER, "mentees")
    rebuilt = answers_from_records(TEACHER, "mentees", answers.records)
    assert rebuilt.records == answers.records
    assert rebuilt.entry_dates == answers.entry_dates
    assert list(rebuilt.consent) == list(answers.consent)


def test_headers_match_ignoring_case_spaces_and_yo() -> None:
    table = example_table("mentees.csv")
    table.columns = [
        "  " + c.upper().replace("Ё", "Е").replace(" ", "   ") + " " for c in table.columns
    ]
    answers = read_answers(csv_bytes(table), TEACHER, "mentees")
    assert (
        answers.records
        == read_answers(EXAMPLES / "teachers" / "mentees.csv", TEACHER, "mentees").records
    )


def test_answers_are_typed_and_normalised() -> None:
    answers = read_answers(csv_bytes(mentor_rows({})), TEACHER, "mentors")
    record = answers.records[0]
    assert record["subjects"] == ["math", "physics"]
    assert record["competences"] == ["methods", "ict"]
    assert record["free_time"] == ["mon_evening", "wed_afternoon"]
    assert (record["experience"], record["capacity"], record["consent"]) == (15.0, 2, True)
    assert record["submitted"] == "2024-09-02"
    assert answers.person_ids == ["petrov@school.example"]
    frame = answers.frame
    assert frame.index.tolist() == ["petrov@school.example"]
    assert frame.loc["petrov@school.example", "position"] == "teacher"


def test_blank_rows_are_skipped_and_rows_keep_their_numbers() -> None:
    text = csv_bytes(mentor_rows({}, {"person_id": "b@s.example", "experience": "много"}))
    lines = text.decode().splitlines()
    data = "\n".join([lines[0], lines[1], ",,,,,,,,,,", "", lines[2]]).encode()
    assert issues_of(data) == [
        (5, "Педагогический стаж (лет)", "много", "ожидалось число от 0 до 60")
    ]


def test_multiline_cells_count_as_one_spreadsheet_row() -> None:
    table = mentor_rows(
        {"full_name": "Петров\nПётр"}, {"person_id": "x@s.example", "capacity": "7"}
    )
    assert issues_of(csv_bytes(table)) == [
        (3, MENTOR_HEADERS["capacity"], "7", "ожидалось целое число от 1 до 3")
    ]


# ----------------------------------------------------------------------------- problems


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    table = mentor_rows(
        {},
        {"person_id": "PETROV@school.example", "experience": "много", "position": "дворник"},
        {"person_id": "c@s.example", "capacity": "1,5", "subjects": "Физика, Астрология"},
        {"person_id": "d@s.example", "position": "Учитель, Директор", "consent": "может быть"},
        {"person_id": "e@s.example", "submitted": "32.13.2024", "free_time": "пн полночь"},
        {"person_id": "", "full_name": "", "meeting_format": "по телефону"},
    )
    # Each answer is named with the other spellings a curator may type (up to three, then «…»).
    roles = (
        "Учитель (или учитель-предметник, педагог, преподаватель, …), Специалист сопровождения "
        "(или педагог-психолог, социальный педагог, учитель-логопед, …), Руководитель (директор "
        "или заместитель) (или директор, заместитель директора, руководитель, …)"
    )
    formats = "Очно (или очный, лично), Дистанционно (или дистанционный, онлайн, виртуально)"
    assert issues_of(csv_bytes(table)) == [
        (
            3,
            "Адрес электронной почты",
            "PETROV@school.example",
            "этот человек уже есть в строке 2: код или e-mail должен встречаться в файле один раз",
        ),
        (3, "Должность", "дворник", f"такого ответа нет в списке; ожидался один из: {roles}"),
        (3, "Педагогический стаж (лет)", "много", "ожидалось число от 0 до 60"),
        (
            4,
            "Преподаваемые предметы",
            "Физика, Астрология",
            "ответов «Астрология» нет в списке; допустимые ответы: Начальные классы (или "
            "начальная школа, учитель начальных классов), Русский язык, Литература, Математика "
            "(или алгебра, геометрия, алгебра и геометрия), Информатика (или информатика и ИКТ), "
            "Физика, Химия, Биология, География, История, Обществознание, Иностранный язык (или "
            "английский язык, немецкий язык, французский язык) и ещё 7",
        ),
        (4, MENTOR_HEADERS["capacity"], "1,5", "ожидалось целое число от 1 до 3"),
        (5, "Должность", "Учитель, Директор", "выбрано несколько ответов, а нужен один"),
        (
            5,
            "Согласие на обработку персональных данных",
            "может быть",
            "ожидалось «да» (согласие дано) или «нет»",
        ),
        (
            6,
            "Удобное время для встреч",
            "пн полночь",
            "не удалось разобрать «полночь»: ожидались дни недели и время дня, "
            "например «пн вечер; ср вечер»",
        ),
        (
            6,
            "Отметка времени",
            "32.13.2024",
            "ожидалась дата в виде ДД.ММ.ГГГГ, например 01.09.2024",
        ),
        (7, "Адрес электронной почты", None, "нет ответа на обязательный вопрос"),
        (7, "ФИО", None, "нет ответа на обязательный вопрос"),
        (
            7,
            "Удобный формат встреч",
            "по телефону",
            f"ответов «по телефону» нет в списке; допустимые ответы: {formats}",
        ),
    ]


def test_missing_required_columns_are_listed_by_name() -> None:
    table = mentor_rows({}).drop(columns=["Должность", "Удобный формат встреч", "ФИО"])
    assert issues_of(csv_bytes(table)) == [
        (1, "ФИО", None, "в файле нет обязательного столбца"),
        (1, "Должность", None, "в файле нет обязательного столбца"),
        (1, "Удобный формат встреч", None, "в файле нет обязательного столбца"),
    ]


def test_a_missing_likert_grid_column_is_named_with_its_item() -> None:
    spec = load_spec(
        TEACHER.model_dump()
        | {
            "mentees": TEACHER.mentees.model_copy(
                update={
                    "questions": tuple(
                        q.model_copy(update={"required": True}) if q.key == "difficulties" else q
                        for q in TEACHER.mentees.questions
                    )
                }
            ).model_dump()
        }
    )
    table = example_table("mentees.csv")
    dropped = "Испытываете ли вы затруднения? [ИКТ-компетенции и цифровизация образования]"
    issues = issues_of(csv_bytes(table.drop(columns=[dropped])), "mentees", spec)
    assert issues == [(1, dropped, None, "в файле нет обязательного столбца")]


def test_a_repeated_column_is_reported() -> None:
    table = mentor_rows({})
    table.insert(2, "фио ", "Другой")
    assert issues_of(csv_bytes(table)) == [
        (
            1,
            "фио",
            None,
            "столбец повторяется: тот же вопрос уже в столбце B («ФИО»); оставьте один",
        )
    ]


def test_bad_likert_level_names_the_grid_column() -> None:
    table = example_table("mentees.csv")
    column = "Испытываете ли вы затруднения? [Здоровьесбережение обучающихся]"
    table.loc[3, column] = "очень часто"
    assert issues_of(csv_bytes(table), "mentees") == [
        (
            5,
            column,
            "очень часто",
            "ожидалось одно из: нет (или никогда, не испытываю), иногда (или редко), "
            "постоянно (или часто, всегда)",
        )
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "файл пустой"),
        (b"   \n\n", "файл пустой"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "старый формат XLS не поддерживается"),
        (b"PK\x03\x04broken", "файл не читается как XLSX"),
        (b"a,b\n1,2\n3,4,5\n", "в строке 3 столбцов 3, а в заголовке 2"),
        (b'a,b\n1,2\n"3,4\n5,6\n', "в строке 3 кавычка открыта и не закрыта до конца файла"),
    ],
)
def test_unreadable_files_are_rejected_whole(data: bytes, message: str) -> None:
    issues = issues_of(data)
    assert len(issues) == 1
    assert issues[0][:3] == (None, None, None)
    assert message in issues[0][3]


@pytest.mark.parametrize(
    "data", [b"PK\x03\x04broken", b'a,b\n"3,4\n', b"PK\x03\x04" + b"\x00" * 200]
)
def test_an_unreadable_file_is_explained_in_russian_only(data: bytes) -> None:
    """The reader library's English reason ("File is not a zip file", "Error tokenizing data. C
    error: EOF inside string") is not passed on to a curator."""
    ((*_, message),) = issues_of(data)
    words = set(re.findall(r"[A-Za-z]{2,}", message)) - {"XLSX", "CSV", "Excel"}
    assert not words, message


def test_header_only_file_has_no_questionnaires() -> None:
    data = csv_bytes(mentor_rows({}).iloc[:0])
    assert issues_of(data) == [(None, None, None, "в файле нет ни одной анкеты")]


def test_xlsx_problem_has_the_spreadsheet_row() -> None:
    table = mentor_rows({}, {"person_id": "b@s.example", "experience": "-3"})
    rows = [[None] * len(table.columns), list(table.columns), *map(list, table.values)]
    assert issues_of(xlsx_bytes(rows)) == [
        (4, "Педагогический стаж (лет)", "-3", "ожидалось число от 0 до 60")
    ]


def test_failure_message_is_russian_with_every_issue() -> None:
    table = mentor_rows({"experience": "x", "capacity": "9"})
    with pytest.raises(ImportFailed) as caught:
        read_answers(csv_bytes(table), TEACHER, "mentors", filename="наставники.csv")
    text = str(caught.value)
    assert text.splitlines()[0] == "Файл «наставники.csv» не принят, ошибок: 2."
    assert "строка 2, столбец «Педагогический стаж (лет)»: значение «x»: ожидалось число" in text
    assert caught.value.issues[1].to_dict() == {
        "row": 2,
        "column": MENTOR_HEADERS["capacity"],
        "value": "9",
        "message": "ожидалось целое число от 1 до 3",
    }


def test_records_are_validated_too() -> None:
    records = [
        teacher_mentor("a", capacity=4),
        teacher_mentor("a", position="pupil"),
        teacher_mentor("b", hobby="шахматы"),
    ]
    with pytest.raises(ImportFailed) as caught:
        answers_from_records(TEACHER, "mentors", records)
    assert [(i.row, i.column, i.message[:30]) for i in caught.value.issues] == [
        (1, MENTOR_HEADERS["capacity"], "ожидалось целое число от 1 до 3"[:30]),
        (2, "Должность", "такого ответа нет в списке; ож"),
        (2, "Адрес электронной почты", "этот человек уже есть в строке"),
        (3, "hobby", "такого вопроса нет в анкете"),
    ]


def test_import_issue_reads_as_a_sentence() -> None:
    issue = ImportIssue(4, "Стаж", "много", "ожидалось число")
    assert str(issue) == "строка 4, столбец «Стаж»: значение «много»: ожидалось число"
    assert str(ImportIssue(None, None, None, "файл пустой")) == "файл пустой"


def test_path_input_uses_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "наставники.csv"
    path.write_bytes(csv_bytes(mentor_rows({"capacity": "0"})))
    with pytest.raises(ImportFailed, match=r"Файл «наставники\.csv» не принят"):
        read_answers(path, TEACHER, "mentors")


def test_mentee_answers_give_what_the_service_stores() -> None:
    answers = answers_from_records(
        TEACHER,
        "mentees",
        [
            teacher_mentee("a", school="Школа 5", entered="2024-09-01", submitted="2024-09-03"),
            teacher_mentee("b", submitted="2024-09-10", meeting_format=["remote"], consent=None),
        ],
    )
    assert answers.organisations == ["Школа 5", None]
    assert answers.entry_dates == [dt.date(2024, 9, 1), dt.date(2024, 9, 10)]
    assert answers.waiting_days(dt.date(2024, 10, 1)).tolist() == [30.0, 21.0]
    assert answers.remote.tolist() == [False, True]
    assert answers.consent.tolist() == [True, False]
    assert answers.forms == [("teacher_teacher", "head_teacher")] * 2


def read_or_issues(data: bytes) -> Answers | list[ImportIssue]:
    """The answers of a file, or the issues it was rejected with (any other error fails the test)."""
    try:
        return read_answers(data, TEACHER, "mentees")
    except ImportFailed as error:
        return error.issues


GRID = TEACHER.mentees.question("difficulties")
FUZZ_HEADERS = [q.header for q in TEACHER.mentees.questions if not q.is_grid] + [
    GRID.item_header.format(header=GRID.header, item=i.label) for i in GRID.items
]
odd_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "да", "пн 25-30", "1,5", "01.02.2024", "Очно,", "постоянно", '"', ",,"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.lists(odd_cells, min_size=len(FUZZ_HEADERS), max_size=len(FUZZ_HEADERS)), max_size=3
    ),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "cp1251", "utf-16"]),
)
def test_any_cells_are_either_read_or_rejected_with_issues(
    rows: list[list[str]], sep: str, encoding: str
) -> None:
    table = pd.DataFrame(rows, columns=FUZZ_HEADERS)
    outcome = read_or_issues(table.to_csv(index=False, sep=sep).encode(encoding, errors="replace"))
    if isinstance(outcome, list):
        assert outcome
        assert all(issue.message for issue in outcome)
    else:
        assert len(outcome) == len(rows)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=120))
def test_any_bytes_are_either_read_or_rejected_with_issues(data: bytes) -> None:
    """Regression: a file holding only a UTF-16 byte order mark raised pandas' EmptyDataError."""
    outcome = read_or_issues(data)
    assert not isinstance(outcome, list) or outcome


def test_one_row_semicolon_file_with_commas_in_cells_is_read() -> None:
    """Regression: csv.Sniffer took ',' for the separator of this ';' export of one mentee
    and every required column was reported missing."""
    data = (Path(__file__).parent / "data" / "one_row_semicolon_commas.csv").read_bytes()
    answers = read_answers(data, load_spec("teacher"), side="mentees", filename="mentees.csv")
    assert answers.person_ids == ["ivanova@school.ru"]
    assert answers.names == ["Иванова Ирина Андреевна"]


@pytest.mark.parametrize(
    ("written", "grade"),
    [
        ("7А", "g7"),
        ("7 а", "g7"),
        ("7-Б", "g7"),
        ("10 «В» класс", "g10"),
        ("11б класс", "g11"),
        ("7 класс", "g7"),
        ("9", "g9"),
    ],
)
def test_class_with_its_letter_is_read_as_the_class(written: str, grade: str) -> None:
    """Schools write a class with its letter (7А, 10 «В»); the pupil spec's patterns accept it."""
    question = next(q for q in load_spec("pupil").mentees.questions if q.key == "grade")
    assert QuestionParser(question).parse(written) == grade


@pytest.mark.parametrize("written", ["12а", "7АБ", "седьмой"])
def test_a_class_that_does_not_exist_is_still_an_error(written: str) -> None:
    question = next(q for q in load_spec("pupil").mentees.questions if q.key == "grade")
    with pytest.raises(BadAnswer, match="такого ответа нет в списке"):
        QuestionParser(question).parse(written)


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused_as_one() -> None:
    """Random bytes or text saved as mentors.xlsx: one problem naming the workbook, not every
    column of the questionnaire listed as missing."""
    for data in (b"\xff\xfe\x00garbage", csv_bytes(mentor_rows({}))):
        with pytest.raises(ImportFailed) as caught:
            read_answers(data, TEACHER, "mentors", filename="Наставники.XLSX")
        ((*where, message),) = [(i.row, i.column, i.value, i.message) for i in caught.value.issues]
        assert where == [None, None, None]
        assert message.startswith("файл не читается как XLSX")
