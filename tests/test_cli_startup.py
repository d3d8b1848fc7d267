"""The command line starts without loading the heavy libraries that only some commands need."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module


def test_nastavnik_help_does_not_load_pandas_or_scikit_learn() -> None:
    code = (
        "import sys, service.cli; "
        "print(sorted(m for m in ('pandas', 'sklearn', 'sqlalchemy', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_features_names_still_import_directly() -> None:
    import features

    assert set(features.__all__) == set(features._HOME)
    for name in features.__all__:
        home = import_module(f"features.{features._HOME[name]}")
        assert getattr(features, name) is getattr(home, name)
