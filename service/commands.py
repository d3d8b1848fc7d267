"""Service commands of the `nastavnik` command line: the demo and, later, serve / orgs / users."""

from __future__ import annotations

import typer


def demo(
    seed: int = typer.Option(7, help="Зерно генератора демонстрационных данных."),
) -> None:
    """Демонстрация: подобрать пары для небольшой случайной школы и напечатать их."""
    import numpy as np

    from matching import Problem, solve

    rng = np.random.default_rng(seed)
    n_mentees, n_mentors = 12, 5
    scores = rng.uniform(0.0, 1.0, size=(n_mentees, n_mentors)).round(3)
    allowed = rng.uniform(size=scores.shape) < 0.6
    capacity = rng.integers(1, 4, size=n_mentors)
    result = solve(Problem(scores, capacity, allowed=allowed, min_score=0.2))
    typer.echo(f"Наставляемых: {n_mentees}, наставников: {n_mentors}, мест: {int(capacity.sum())}")
    for mentee, mentor in result.pairs:
        typer.echo(
            f"  наставляемый {mentee:>2} — наставник {mentor} (оценка {scores[mentee, mentor]:.3f})"
        )
    typer.echo(f"Без пары: {', '.join(map(str, result.unmatched)) or 'нет'}")
    typer.echo(f"Сумма оценок: {result.total_score:.3f}")


def register(app: typer.Typer) -> None:
    """Add the service commands to the root application."""
    app.command("demo")(demo)
