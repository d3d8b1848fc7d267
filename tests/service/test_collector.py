"""The garbage collector's freezes in a server process (service.core.collector): a big import's
end gives its objects back without undoing what start-up froze. Run in a fresh interpreter, so
that the test process's own collector is left alone."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
from service.core import collector

startup = {startup}
if startup:
    collector.freeze_startup()
frozen_at_start = gc.get_freeze_count()
requests_made = [[k] for k in range(1_000)]  # alive, made since start-up: not frozen by an import
with collector.heavy_work():
    with collector.heavy_work():  # two imports at once: the first to end unfreezes nothing
        built = [[k] for k in range(50_000)]
        if {settle}:
            collector.settle()
    during = gc.get_freeze_count()
    del built
print(frozen_at_start, during, gc.get_freeze_count())
"""


def _counts(startup: bool, settle: bool = True) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(startup=startup, settle=settle)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [int(x) for x in out.stdout.split()]


def test_an_imports_end_keeps_what_a_server_froze_at_start_up() -> None:
    at_start, during, after = _counts(startup=True)
    assert at_start > 0
    assert during >= at_start + 50_000  # the other import still runs: its objects stay frozen
    assert at_start // 2 <= after < at_start + 50_000  # start-up frozen again, the rows given back


def test_without_a_start_up_freeze_an_imports_end_freezes_nothing() -> None:
    at_start, during, after = _counts(startup=False)
    assert at_start == 0
    assert during >= 50_000
    assert after == 0


def test_a_small_imports_end_leaves_the_freeze_alone() -> None:
    """An import that froze nothing of its own (a small file) gives nothing back: no full
    collection of the whole process at its end, start-up's freeze as it was."""
    at_start, during, after = _counts(startup=True, settle=False)
    assert at_start > 0
    assert during == at_start
    assert after == at_start
