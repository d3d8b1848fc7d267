"""Issue 11's city of pupils with groups and mentees needing two mentors: matched exactly (gap 0
to the LP relaxation), group sizes within each form's, and the CLI workbook shows the groups."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from experiments.cohorts import groups_spec_source, make_groups
from features import score_pairs
from features.groups import group_sizes
from matching import solve, violations
from tests.matching.reference import flow_lp


@pytest.fixture(scope="module")
def city() -> tuple[object, object]:
    cohort = make_groups(seed=4, mentees=1_500, mentors=500, schools=12)
    mentors, mentees = cohort.answers("mentors"), cohort.answers("mentees")
    scores = score_pairs(cohort.spec, mentors, mentees, cohort.mentee_orgs, cohort.mentor_orgs)
    return cohort, scores


def test_the_city_has_groups_and_mentees_needing_two(city: tuple[object, object]) -> None:
    _, scores = city
    demand = scores.demand  # type: ignore[attr-defined]
    assert 0.07 < float((demand == 2).mean()) < 0.13
    assert set(demand.tolist()) == {1, 2}
    capacity = scores.capacity  # type: ignore[attr-defined]
    assert capacity.max() > 3  # groups above the teachers' three
    assert (capacity <= scores.max_capacity).all()  # type: ignore[attr-defined]


def test_matched_exactly_gap_zero_to_the_lp(city: tuple[object, object]) -> None:
    _, scores = city
    problem = scores.problem()  # type: ignore[attr-defined]
    result = solve(problem)
    assert violations(problem, result.pairs) == []
    units, best = flow_lp(problem)
    assert len(result.pairs) == units
    assert result.total_score == pytest.approx(best, abs=1e-6)
    # Mentees needing two mentors got distinct ones.
    mentors_of = Counter(i for i, _ in result.pairs)
    two = np.flatnonzero(problem.demand == 2)
    assert sum(mentors_of[i] == 2 for i in two) > 0.5 * len(two)
    assert len(set(result.pairs)) == len(result.pairs)
    # Group sizes stay within each form's largest group.
    limits = {f.label: f.max_group for f in problem_spec(scores).forms}
    sizes = group_sizes(scores, result.pairs)  # type: ignore[arg-type]
    assert max(sizes["ученик – ученик"]) > 3
    for form, found in sizes.items():
        assert all(size <= limits[form] for size in found), form


def problem_spec(scores: object) -> object:
    return scores.spec  # type: ignore[attr-defined]


def test_match_workbook_shows_groups_and_co_mentors(tmp_path: Path) -> None:
    import typer

    from features.cli import register

    small = make_groups(seed=5, mentees=200, mentors=70, schools=2)
    spec = tmp_path / "pupil-groups.yaml"
    spec.write_text(yaml.safe_dump(groups_spec_source(), allow_unicode=True), "utf-8")
    mentors, mentees = tmp_path / "mentors.csv", tmp_path / "mentees.csv"
    small.mentors_table.to_csv(mentors, index=False)
    small.mentees_table.to_csv(mentees, index=False)
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(
        app,
        ["match", "--spec", str(spec), "--mentors", str(mentors), "--mentees", str(mentees),
         "--out", str(out), "--today", "01.10.2024"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Группы: ученик – ученик" in result.output
    assert "Нужно несколько наставников" in result.output
    assert "Сплочённость групп" in result.output
    sheets = pd.read_excel(out, sheet_name=None)
    groups, pairs = sheets["Группы"], sheets["Пары"]
    assert groups["Наставляемых"].max() > 3
    assert (groups["Наставляемых"] <= groups["Наибольшая группа формы"]).all()
    grouped = groups[groups["Наставляемых"] > 1]
    assert grouped["Группа"].str.startswith("Группа ").all()
    # Every pair of a group names it; a mentee with two mentors names the other one.
    counted = pairs[pairs["Группа"].fillna("") != ""].groupby("Группа").size()
    assert (counted.sort_index() == grouped.set_index("Группа")["Наставляемых"].sort_index()).all()
    twice = pairs.groupby("Код наставляемого")["Код наставника"].nunique()
    assert (twice == 2).any()
    with_others = pairs[pairs["Другие наставники"].fillna("") != ""]
    assert set(with_others["Код наставляемого"]) == set(twice[twice == 2].index)


def test_evaluation_report_shows_the_groups(tmp_path: Path) -> None:
    from experiments.evaluate import evaluate, synthetic
    from experiments.report import write_report

    result = evaluate(synthetic("groups", seed=1, mentees=600, mentors=200))
    methods = result.groups["methods"]
    assert "solver_cohesion" in methods.index
    # The solver covers the most demand; the cohesion solve forms more alike groups.
    assert (methods.loc["solver_coverage", "demand_covered"] >= methods["demand_covered"]).all()
    assert methods.loc["solver_cohesion", "cohesion"] > methods.loc["solver_coverage", "cohesion"]
    assert methods.loc["solver_coverage", "several_full"] > 0
    assert methods.loc["solver_coverage", "group_max"] > 3
    assert result.groups["cohesion"]["gap"] >= 0
    report = write_report(result, tmp_path).read_text("utf-8")
    assert "## Группы и несколько наставников" in report
    assert "Размеры групп по формам — Решатель: охват, затем сумма" in report
    assert "| ученик – ученик | 10 |" in report
    assert "верхняя граница" in report
