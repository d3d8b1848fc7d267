"""``nastavnik learn`` -> ``nastavnik match --model`` and ``nastavnik evaluate``, as an analyst runs them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.report import PLOTS, TIMINGS_HEADING
from features import load_model, load_spec, read_answers, score_pairs
from service.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def past(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Last year's questionnaires of a few schools and their pairs with outcomes, as files."""
    from experiments.cohorts import make_city
    from experiments.evaluate import _past_programme

    directory = tmp_path_factory.mktemp("past")
    cohort = make_city(seed=31, spec="teacher", mentees=200, mentors=140, schools=4)
    cohort.write(directory, encoding="cp1251", delimiter=";")
    _, _, pairs = _past_programme(cohort, seed=0)
    history = pairs[["mentor_id", "mentee_id"]].assign(outcome=pairs["mentee_satisfaction"])
    history.to_excel(directory / "history.xlsx", index=False)
    return directory


def learn_args(past: Path, out: Path, *extra: str) -> list[str]:
    return [
        "learn", "--spec", "teacher",
        "--mentors", str(past / "mentors.csv"), "--mentees", str(past / "mentees.csv"),
        "--history", str(past / "history.xlsx"), "--out", str(out), *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("kind", ["weights", "linear"])
def test_learn_then_match_with_the_model(past: Path, tmp_path: Path, kind: str) -> None:
    model = tmp_path / "модель.json"
    jobs = ["--jobs", "2"] if kind == "linear" else []  # folds side by side: same output
    code, output = run(*learn_args(past, model, "--kind", kind, *jobs))
    assert code == 0, output
    assert "корреляция Спирмена" in output
    label = {"weights": "обученные веса составляющих", "linear": "составляющие и ответы наставника"}
    for shown in ("веса анкеты", label[kind]):
        # Fold mean ± sd, then the pooled quality with its 95 % interval.
        pattern = rf"{shown}\s+-?\d\.\d{{3}} ± \d\.\d{{3}}\s+-?\d\.\d{{3}} \[-?\d\.\d{{3}}; -?\d\.\d{{3}}\]"
        assert re.search(pattern, output), shown
    # Only the kind asked for is fitted, and every pair is tested once (folds by mentee).
    other = label["linear" if kind == "weights" else "weights"]
    assert other not in output
    assert re.search(r"Проверено пар: (\d+) из \1 \(каждая ровно один раз\)", output), output
    # The generic baselines of experiments/ (found through the entry point) on the same folds.
    for generic in ("общая логистическая регрессия", "общий градиентный бустинг"):
        assert re.search(rf"{generic} \(ответы \+ совпадения\)\s+-?\d\.\d{{3}} ±", output)
    assert model.is_file()

    teachers = EXAMPLES / "teachers"
    proposals = tmp_path / "пары.csv"
    code, output = run(
        "match", "--mentors", str(teachers / "mentors.csv"),
        "--mentees", str(teachers / "mentees.csv"), "--model", str(model),
        "--out", str(proposals), "--today", "01.10.2024",
    )  # fmt: skip
    assert code == 0, output
    pairs = pd.read_csv(proposals, encoding="utf-8-sig")
    assert len(pairs) > 0
    # The scores in the proposals are the learned model's, not the spec's weighted mean.
    spec = load_spec("teacher")
    mentors = read_answers(teachers / "mentors.csv", spec, "mentors")
    mentees = read_answers(teachers / "mentees.csv", spec, "mentees")
    learned = score_pairs(spec, mentors, mentees, model=load_model(model))
    hand = score_pairs(spec, mentors, mentees)
    expected = [
        learned.score(mentees.index(e), mentors.index(m))
        for m, e in zip(pairs["Код наставника"], pairs["Код наставляемого"], strict=True)
    ]
    np.testing.assert_allclose(pairs["Оценка"], expected, atol=5e-4)
    assert not np.allclose(learned.scores.data, hand.scores.data)


def test_learn_refuses_a_bad_history_and_saves_nothing(past: Path, tmp_path: Path) -> None:
    bad = tmp_path / "history.csv"
    mentor = pd.read_csv(past / "mentors.csv", sep=";", encoding="cp1251").iloc[0, 1]
    bad.write_text(
        f"mentor_id,mentee_id,outcome\n{mentor},nobody@x.example,8\n{mentor},,отлично\n", "utf-8"
    )
    out = tmp_path / "model.json"
    args = learn_args(past, out)
    args[args.index("--history") + 1] = str(bad)
    code, output = run(*args)
    assert code == 1
    assert "строка 2, столбец «mentee_id»: значение «nobody@x.example»" in output
    assert "строка 3, столбец «mentee_id»: не указан код или e-mail наставляемого" in output
    assert "строка 3, столбец «outcome»: значение «отлично»: ожидалось число" in output
    assert "модель не сохранена" in output
    assert not out.exists()


def test_learn_wants_a_json_file(past: Path, tmp_path: Path) -> None:
    code, output = run(*learn_args(past, tmp_path / "model.pkl"))
    assert code == 1
    assert "расширением .json" in output


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The school evaluation run twice with the same seed."""
    root = tmp_path_factory.mktemp("reports")
    for name in ("a", "b"):
        code, output = run(
            "evaluate", "--cohort", "school", "--seed", "5", "--out", str(root / name)
        )
        assert code == 0, output
    return root / "a", root / "b"


def test_evaluate_writes_the_report_and_the_plots(reports: tuple[Path, Path]) -> None:
    directory = reports[0]
    report = (directory / "report.md").read_text("utf-8")
    for heading in (
        "## Главная таблица",
        "## Удовлетворённость и целевые показатели",
        "## Загрузка наставников",
        "## Охват и минимальная оценка",
        "## Обучение на исходах",
        TIMINGS_HEADING,
    ):
        assert heading in report
    for plot in PLOTS:
        assert (directory / plot).read_bytes().startswith(b"\x89PNG"), plot
        assert f"]({plot})" in report
    metrics = pd.read_csv(directory / "metrics.csv", index_col="key")
    assert list(metrics.index) == [
        "random", "greedy", "stable", "solver_score", "solver_coverage", "solver_balanced",
        "solver_waiting", "solver_learned",
    ]  # fmt: skip
    assert (metrics.loc["solver_coverage", "coverage"] >= metrics["coverage"]).all()
    assert metrics.loc["stable", "blocking_pairs"] == 0
    # Priority to the overdue: as many mentees matched, and at least as many overdue ones.
    waiting, coverage = metrics.loc["solver_waiting"], metrics.loc["solver_coverage"]
    assert waiting["coverage"] == coverage["coverage"]
    assert waiting["waiting_matched"] >= coverage["waiting_matched"]
    assert "| Решатель: охват, затем сумма |" in report


def test_evaluate_is_deterministic_for_a_seed(reports: tuple[Path, Path]) -> None:
    first, second = reports

    def stable_part(directory: Path) -> str:
        text = (directory / "report.md").read_text("utf-8")
        text = text.split(TIMINGS_HEADING)[0]
        return re.sub(r"Команда: `.*`", "", text)

    assert stable_part(first) == stable_part(second)
    for name in ("metrics.csv", "learning.csv", *PLOTS):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_evaluate_a_directory_of_real_files(tmp_path: Path) -> None:
    code, output = run(
        "evaluate", "--cohort", str(EXAMPLES / "pupils"), "--spec", "pupil", "--out", str(tmp_path)
    )
    assert code == 0, output
    report = (tmp_path / "report.md").read_text("utf-8")
    assert "Истинная совместимость" in report  # the column is there, empty
    assert "| Случайные допустимые пары |" in report
    assert "Удовлетворённость и целевые показатели" not in report  # no outcomes known


def test_evaluate_names_a_missing_directory(tmp_path: Path) -> None:
    code, output = run("evaluate", "--cohort", str(tmp_path / "нет"), "--out", str(tmp_path))
    assert code == 1
    assert "не папка" in output


def test_evaluate_names_a_missing_questionnaire(tmp_path: Path) -> None:
    (tmp_path / "mentors.csv").write_bytes((EXAMPLES / "teachers" / "mentors.csv").read_bytes())
    code, output = run("evaluate", "--cohort", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "нет файла mentees.csv или mentees.xlsx" in output


def test_learn_by_a_users_column_reports_conflicting_outcomes(past: Path, tmp_path: Path) -> None:
    history = pd.read_excel(past / "history.xlsx")
    history["term"] = ["осень" if k % 2 else "весна" for k in range(len(history))]
    # The first pair again, with another outcome: reported with both rows, and kept.
    again = history.iloc[[0]].assign(outcome=history["outcome"].iloc[0] + 1)
    pd.concat([history, again]).to_csv(tmp_path / "history.csv", index=False)
    args = learn_args(past, tmp_path / "m.json", "--kind", "weights", "--group-by", "term")
    args[args.index("--history") + 1] = str(tmp_path / "history.csv")
    code, output = run(*args)
    assert code == 0, output
    assert "у одной и той же пары разные исходы (1)" in output
    assert (
        f"разные исходы в строках 2 ({history['outcome'].iloc[0]:g}), {len(history) + 2}" in output
    )
    assert "по столбцу --group-by" in output
    assert "частей: 2." in output  # two terms, two folds
    assert f"Проверено пар: {len(history) + 1} из {len(history) + 1}" in output
    args[args.index("--group-by") + 1] = "срок"
    code, output = run(*args)
    assert code == 1
    assert "нет столбца «срок» (указан в --group-by)" in output
