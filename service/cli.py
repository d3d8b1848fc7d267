"""The `nastavnik` command line: the one place where every part of the project meets.

Each part registers its own commands (``features.cli``, ``experiments.cli``, ``service.commands``);
heavy imports happen inside the commands so that ``nastavnik --help`` stays fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="nastavnik",
    help="Наставник: формирование наставнических пар по анкетам.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Наставник: анкеты наставников и наставляемых -> предложения пар -> подтверждение куратором."""


def _register_all() -> None:
    from experiments import cli as experiments_cli
    from features import cli as features_cli
    from service import commands as service_commands

    for part in (service_commands, features_cli, experiments_cli):
        part.register(app)


_register_all()


def main() -> None:
    """Entry point of the console script."""
    app()
