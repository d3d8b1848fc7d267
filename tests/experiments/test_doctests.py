"""The examples in the docstrings of the evaluation modules run (experiments/ is not a test path)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "experiments.metrics",
    "experiments.baselines",
    "experiments.evaluate",
    "experiments.generic",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
