"""Commands of this part for the `nastavnik` command line (see service/cli.py)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root application."""
