"""The `nastavnik` command line: assembles the commands every installed part registers.

Each part declares a ``register(app)`` function under the ``nastavnik.commands`` entry-point group
of ``pyproject.toml`` (``features.cli``, ``service.commands``, ``experiments.cli``); they are found
at start-up, so the service never imports the experiments. Heavy imports happen inside the
commands, so that ``nastavnik --help`` stays fast.
"""

from __future__ import annotations

from importlib.metadata import entry_points

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
    for entry in sorted(entry_points(group="nastavnik.commands"), key=lambda e: e.name):
        entry.load()(app)


_register_all()


def main() -> None:
    """Entry point of the console script."""
    app()
