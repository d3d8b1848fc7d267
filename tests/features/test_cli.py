"""``nastavnik match`` on the sample exports: what a curator finds in the output and on the screen."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from features import WeightsModel, load_spec, read_answers, save_model, score_pairs
from features.cli import register
from tests.features.util import EXAMPLES

TEACHERS = EXAMPLES / "teachers"
PUPILS = EXAMPLES / "pupils"


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    return app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_app(), ["match", *args])
    return result.exit_code, result.output


def test_match_writes_pairs_unmatched_and_load(tmp_path: Path) -> None:
    out = tmp_path / "предложения.xlsx"
    code, output = run(
        "--mentors", str(TEACHERS / "mentors.csv"),
        "--mentees", str(TEACHERS / "mentees.csv"),
        "--out", str(out),
        "--today", "01.10.2024",
    )  # fmt: skip
    assert code == 0, output
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["Пары", "Без пары", "Наставники", "Группы", "Пояснения"]
    pairs, unmatched, mentors = sheets["Пары"], sheets["Без пары"], sheets["Наставники"]

    spec = load_spec("teacher")
    mentor_answers = read_answers(TEACHERS / "mentors.csv", spec, "mentors")
    mentee_answers = read_answers(TEACHERS / "mentees.csv", spec, "mentees")
    scores = score_pairs(spec, mentor_answers, mentee_answers)
    for row in pairs.itertuples(index=False):
        mentee = mentee_answers.index(row[5])
        mentor = mentor_answers.index(row[2])
        assert scores.allowed(mentee, mentor)
        assert row[8] == pytest.approx(scores.score(mentee, mentor), abs=1e-3)
        assert row[9] == "; ".join(scores.reasons(mentee, mentor))
    assert pairs["Код наставляемого"].is_unique
    load = pairs["Код наставника"].value_counts()
    places = dict(zip(mentors["Код наставника"], mentors["Мест"], strict=True))
    assert all(load[m] <= places[m] for m in load.index)
    assert set(pairs["Код наставляемого"]) | set(unmatched["Код наставляемого"]) == set(
        mentee_answers.person_ids
    )
    assert unmatched["Дней ожидания"].fillna(-1).is_monotonic_decreasing
    assert "нет согласия" in " ".join(unmatched["Причина"])
    assert f"Предложено пар: {len(pairs)}; без пары: {len(unmatched)}" in output
    assert f"допустимых пар: {scores.n_pairs}" in output


def test_pupils_in_windows_1251_with_a_minimum_score(tmp_path: Path) -> None:
    out = tmp_path / "p.xlsx"
    code, output = run(
        "--mentors", str(PUPILS / "mentors.csv"),
        "--mentees", str(PUPILS / "mentees.csv"),
        "--spec", "pupil",
        "--out", str(out),
        "--min-score", "0.5",
        "--today", "2024-10-01",
    )  # fmt: skip
    assert code == 0, output
    pairs = pd.read_excel(out, sheet_name="Пары")
    unmatched = pd.read_excel(out, sheet_name="Без пары")
    assert (pairs["Оценка"] >= 0.5).all()
    assert set(pairs["Форма"]) <= {"ученик – ученик", "студент – ученик", "работодатель – ученик"}
    late = unmatched[unmatched["Дней ожидания"] > 30]
    assert late["Срок"].str.fullmatch(r"просрочено на \d+ (день|дня|дней)").all()
    assert (late["Дней ожидания"] - 30).astype(str).tolist() == late["Срок"].str.split().str[
        2
    ].tolist()
    assert f"из них ждут больше 30 дней: {len(late)}" in output


def test_a_bad_file_exits_with_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    table = pd.read_csv(TEACHERS / "mentors.csv", dtype=str, keep_default_na=False)
    table.loc[2, "Педагогический стаж (лет)"] = "много"
    table.loc[4, "Должность"] = "сторож"
    bad = tmp_path / "наставники.csv"
    table.to_csv(bad, index=False, sep=";", encoding="cp1251")
    mentees = tmp_path / "наставляемые.csv"
    mentees.write_text("ФИО\nИванов\n", "utf-8")
    out = tmp_path / "out.xlsx"
    code, output = run("--mentors", str(bad), "--mentees", str(mentees), "--out", str(out))
    assert code == 1
    assert not out.exists()
    lines = output.splitlines()
    assert lines[0] == "Файл «наставники.csv» не принят, ошибок: 2."
    assert lines[1] == (
        "  строка 4, столбец «Педагогический стаж (лет)»: значение «много»: "
        "ожидалось число от 0 до 60"
    )
    assert lines[2].startswith("  строка 6, столбец «Должность»: значение «сторож»: ")
    assert lines[3].startswith("Файл «наставляемые.csv» не принят, ошибок: 5.")
    assert (
        "  строка 1, столбец «Адрес электронной почты»: в файле нет обязательного столбца" in lines
    )
    assert lines[-1] == "Исправьте файлы и запустите снова; ничего не записано."


def test_csv_output_and_a_learned_model(tmp_path: Path) -> None:
    model = tmp_path / "model.json"
    save_model(WeightsModel({"subject": 1.0}, spec="teacher"), model)
    out = tmp_path / "pairs.csv"
    code, output = run(
        "--mentors", str(TEACHERS / "mentors.csv"),
        "--mentees", str(TEACHERS / "mentees.csv"),
        "--out", str(out),
        "--model", str(model),
    )  # fmt: skip
    assert code == 0, output
    pairs = pd.read_csv(out, encoding="utf-8-sig")
    assert set(pairs["Оценка"].round(3)) <= {0.0, 1.0}
    assert (tmp_path / "pairs-без-пары.csv").exists()
    assert (tmp_path / "pairs-наставники.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spec", "нет-такой"], "нет такого файла и нет такой стандартной анкеты"),
        (["--model", "missing.json"], "Модель не принята: файл модели «missing.json» не найден"),
        (["--today", "вчера"], "ожидалась дата ДД.ММ.ГГГГ"),
    ],
)
def test_bad_options_are_explained(args: list[str], message: str) -> None:
    code, output = run(
        "--mentors", str(TEACHERS / "mentors.csv"),
        "--mentees", str(TEACHERS / "mentees.csv"),
        *args,
    )  # fmt: skip
    assert code != 0
    assert message in output


def test_the_installed_command_runs(tmp_path: Path) -> None:
    command = shutil.which("nastavnik", path=str(Path(sys.executable).parent))
    assert command is not None
    out = tmp_path / "proposals.xlsx"
    today = dt.date(2024, 10, 1).strftime("%d.%m.%Y")
    result = subprocess.run(
        [command, "match", "--mentors", str(TEACHERS / "mentors.csv"),
         "--mentees", str(TEACHERS / "mentees.csv"), "--out", str(out), "--today", today],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Результат: " + str(out) in result.stdout
    assert len(pd.read_excel(out, sheet_name="Пары")) > 0


FORMULAS = ['=HYPERLINK("http://evil.example","Нажмите")', "+7+1", "-2+3", "@SUM(A1)", "\tИванов"]


def _formula_names(tmp_path: Path) -> tuple[Path, Path]:
    """The sample exports with names a spreadsheet would run as formulas."""
    files = []
    for side in ("mentors", "mentees"):
        table = pd.read_csv(TEACHERS / f"{side}.csv", dtype=str, keep_default_na=False)
        table["ФИО"] = [f"{FORMULAS[i % len(FORMULAS)]} {i}" for i in range(len(table))]
        path = tmp_path / f"{side}.csv"
        table.to_csv(path, index=False)
        files.append(path)
    return files[0], files[1]


def test_no_exported_cell_is_a_live_formula(tmp_path: Path) -> None:
    import csv
    import zipfile

    mentors, mentees = _formula_names(tmp_path)
    xlsx, table = tmp_path / "out.xlsx", tmp_path / "out.csv"
    for out in (xlsx, table):
        code, output = run("--mentors", str(mentors), "--mentees", str(mentees), "--out", str(out))
        assert code == 0, output
    with zipfile.ZipFile(xlsx) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(archive.read(name).decode() for name in sheets)
        texts = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/"))
    assert len(sheets) == 5  # pairs, unmatched, mentors, groups and the legend
    assert "<f>" not in xml
    assert "<f " not in xml
    assert 'HYPERLINK("http://evil.example"' in texts.replace("&quot;", '"')  # kept, as text
    written = sorted(tmp_path.glob("out*.csv"))
    assert len(written) == 4
    cells = [
        cell
        for path in written
        for row in csv.reader(path.open(encoding="utf-8-sig"))
        for cell in row
    ]
    assert '\'=HYPERLINK("http://evil.example","Нажмите") 0' in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_the_workbook_explains_its_columns_and_takes_the_curators_decision(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "p.xlsx"
    code, output = run(
        "--mentors", str(PUPILS / "mentors.csv"),
        "--mentees", str(PUPILS / "mentees.csv"),
        "--spec", "pupil",
        "--out", str(out),
        "--today", "01.10.2024",
    )  # fmt: skip
    assert code == 0, output
    book = load_workbook(out)
    assert book.sheetnames == ["Пары", "Без пары", "Наставники", "Группы", "Пояснения"]
    pairs = book["Пары"]
    header = [c.value for c in pairs[1]]
    for sheet in ("Пары", "Без пары", "Наставники", "Группы"):
        table = book[sheet]
        assert table.freeze_panes == "A2"
        last = table.cell(1, table.max_column).column_letter
        assert table.auto_filter.ref == f"A1:{last}{table.max_row}"
    # The curator's decision: an empty column with a drop-down list over every pair.
    decision = header.index("Решение куратора") + 1
    letter = pairs.cell(1, decision).column_letter
    assert all(pairs.cell(r, decision).value is None for r in range(2, pairs.max_row + 1))
    (validation,) = pairs.data_validations.dataValidation
    assert (validation.type, validation.formula1) == ("list", '"подтвердить,отклонить,отложить"')
    assert str(validation.sqref) == f"{letter}2:{letter}{pairs.max_row}"
    # Every component column is explained: on its header and in the legend.
    spec = load_spec("pupil")
    components = [c.label for c in spec.components]
    assert header[decision : decision + len(components)] == components
    legend = {
        (row[0].value, row[1].value): row[2].value for row in book["Пояснения"].iter_rows(min_row=2)
    }
    assert all(legend[("Пары", name)] for name in header)
    subjects = legend[("Пары", "предметы")]
    assert subjects.startswith("Часть оценки, от 0 до 1 (1 — лучше)")
    assert "«По каким предметам тебе нужна помощь?»" in subjects
    assert re.search(r"Вес в оценке — \d+ %", subjects)
    assert pairs.cell(1, header.index("предметы") + 1).comment.text == subjects
    assert "просрочено на N дней" in legend[("Без пары", "Срок")]
    # The 30-day deadline counts the days left or overdue, never «до срока 0 дней».
    waiting = book["Без пары"]
    columns = [c.value for c in waiting[1]]
    days, term = columns.index("Дней ожидания"), columns.index("Срок")
    seen = set()
    for row in waiting.iter_rows(min_row=2, values_only=True):
        if row[days] is None:
            continue
        left = 30 - row[days]
        expected = (
            "срок истекает сегодня" if left == 0
            else f"осталось {left} " if left > 0 else f"просрочено на {-left} "
        )  # fmt: skip
        assert row[term].startswith(expected), (row[days], row[term])
        seen.add(expected.split()[0])
    assert {"осталось", "просрочено"} <= seen
