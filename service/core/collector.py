"""Python's cyclic garbage collector in a server process: the one owner of ``gc.freeze``.

Two things freeze objects (move them out of the collector's sight; they are still freed when no
longer referenced), and ``gc.unfreeze`` cannot tell them apart, so both go through here:

- a server process freezes what it made at start-up (:func:`freeze_startup`, called by
  ``service.app.serve_app``): the application and the imported libraries live as long as the
  process, and a full collection then walks only what requests made since;
- a big import freezes the millions of objects it builds (:func:`settle`), since a full
  collection of them holds the interpreter lock for seconds and stalls other schools' requests.
  The last import to end (:func:`heavy_work`) gives them back: their cycles are collected once,
  and what start-up had frozen is frozen again (before, an import's end undid start-up's freeze
  for the rest of the process's life). A small import freezes nothing and so ends with nothing
  to give back: a full collection of the whole process costs ~250 ms of CPU with the interpreter
  lock held (``experiments.profile_load``: "import 5 pupils" 300 ms before), far more than the
  few objects of a small file would ever cost the collector.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_startup", "heavy_work", "settle"]

_lock = threading.Lock()
_running = 0
_startup_frozen = False
_settled = False  # a heavy task froze objects of its own since the last give-back


def freeze_startup() -> None:
    """Freeze everything alive now (a server process after start-up) and make the collector's
    passes rarer (``experiments.profile_load --concurrent 8``: 45 -> 26-33 ms of server CPU per
    request; cyclic garbage is still collected)."""
    global _startup_frozen
    with _lock:
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 50, 100)
        _startup_frozen = True


def settle() -> None:
    """Freeze what a running heavy task has built so far (see :func:`heavy_work`)."""
    global _settled
    with _lock:
        gc.freeze()
        _settled = True


@contextmanager
def heavy_work() -> Iterator[None]:
    """Hold this around work that calls :func:`settle`; the last one to end unfreezes, if any
    froze."""
    global _running, _settled
    with _lock:
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if not _running and _settled:
                _settled = False
                gc.unfreeze()
                if _startup_frozen:  # the import's own objects are gone; freeze start-up again
                    gc.collect()
                    gc.freeze()
