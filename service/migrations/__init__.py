"""Alembic migrations of the service database (``nastavnik db upgrade`` applies them)."""
