"""Reading an imported file into the rows an import stores; a big file in a separate process.

Parsing a file, validating its rows and building them (answers encoded as JSON, the consents
they give) is Python work that holds the interpreter lock: in the serving process, a 100,000-row
file starved the server's other requests (another school's writes) for seconds. A file of
``IN_PROCESS_BYTES`` or more is therefore read by a process of its own (started from a fork
server that has the parser imported), and only its compact result comes back: the rows as
tuples with their answers already encoded as JSON. Smaller files are read in place.

The limits (``features.limits``) apply in the worker as in place: reading stops at its time
budget with the same Russian error. The worker is also ended when the budget (plus
``GRACE_SECONDS``) has passed without an answer, when the waiting request is interrupted, and
when the application stops (:func:`close`).
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from features.numbers import number
from service.core.errors import Invalid
from service.people import consents

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from features.limits import Limits

__all__ = [
    "GRACE_SECONDS",
    "IN_PROCESS_BYTES",
    "Read",
    "Row",
    "close",
    "entry_times",
    "plain",
    "read_file",
]

IN_PROCESS_BYTES = 2**20  # smaller files are read in the serving process (about 3,000 rows)
GRACE_SECONDS = 15.0  # past the time budget, a worker that has not answered is ended
_WORKERS = 2  # at most this many files read at once by workers; more wait for one
_slots = threading.BoundedSemaphore(_WORKERS)
_running: set[BaseProcess] = set()
_guard = threading.Lock()
_context: Any = None
log = logging.getLogger("nastavnik.service.people.reading")


class Row(NamedTuple):
    """One person's row of an imported file, as it is stored."""

    external_id: str
    name: str | None
    encoded: str  # the answers as stored: JSON
    minor: bool  # a parent's consent is needed, when the questionnaire asks for it
    entered: datetime | None
    capacity: int | None
    consents: dict[str, bool]  # the consents these answers give, by kind
    given: bool = False  # whether they are all a new person needs (computed ahead)

    @property
    def records(self) -> dict[str, Any]:
        """The answers (decoded again from :attr:`encoded` at each use)."""
        return json.loads(self.encoded)


class Read(NamedTuple):
    """What an import needs of a file once it is read."""

    rows: list[Row]
    organisations: list[str | None]  # the organisation column, by row ([] without one)
    numbers: list[int]  # each row's number in the file
    organisation_column: str | None  # the organisation column's header


def plain(records: dict[str, Any]) -> dict[str, Any]:
    """Answers as the database returns them (JSON), not as pandas produced them."""
    return json.loads(json.dumps(records, ensure_ascii=False, default=str))


def entry_times(answers: Any) -> list[datetime | None]:
    """When each person entered the programme (the form's date), as UTC midnight."""
    dates = getattr(answers, "entry_dates", None) or [None] * len(answers.person_ids)
    return [None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC) for d in dates]


def _value(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def _invalid(issues: list[Any], filename: str | None) -> Invalid:
    errors = [
        {"row": i.row, "column": i.column, "value": _value(i.value), "message": i.message}
        for i in issues
    ]
    return Invalid(
        f"Файл {filename or ''} не принят: проблем — {len(errors)}. Ничего не сохранено.",
        errors,
    )


def _read(data: bytes, spec: str, side: str, filename: str | None, limits: Limits) -> Read:
    """Parse and build the rows here (in place, or in a worker)."""
    from features import ImportFailed, read_answers
    from features.limits import applied
    from service.people.questionnaires import load_spec_named

    side_value = "mentor" if side == "mentors" else "mentee"
    loaded = load_spec_named(spec)
    with applied(limits):
        try:
            answers = read_answers(data, loaded, side=side, filename=filename)
        except ImportFailed as exc:
            raise _invalid(exc.issues, filename) from exc
    entries = entry_times(answers)
    capacity = getattr(answers, "capacity", None) if side == "mentors" else None
    rows = []
    for k, person_id in enumerate(answers.person_ids):
        records = plain(answers.records[k])
        given = consents.from_answers(spec, side_value, records)
        minor = bool(answers.minor[k])
        rows.append(
            Row(
                str(person_id),
                answers.names[k] if answers.names else None,
                json.dumps(records),
                minor,
                entries[k],
                None if capacity is None else int(capacity[k]),
                given,
                consents.summed_up(given, minor),
            )
        )
    fields = answers.spec.side(answers.side)
    column = (
        fields.question(fields.fields.organisation).header if fields.fields.organisation else None
    )
    return Read(rows, list(answers.organisations), list(answers.rows), column)


def read_file(data: bytes, spec: str, side: str, filename: str | None, limits: Limits) -> Read:
    """Read a file within ``limits``: in place when small, else in a worker process.

    Raises ``Invalid`` (every problem, with its row and column) as reading in place does. A
    worker that cannot start, or ends without an answer, is logged and the file read in place.
    """
    if len(data) < IN_PROCESS_BYTES:
        return _read(data, spec, side, filename, limits)
    with _slots:
        outcome = _in_worker(data, spec, side, filename, limits)
    if outcome is None:
        return _read(data, spec, side, filename, limits)
    if outcome[0] == "invalid":
        raise Invalid(outcome[1], outcome[2])
    if outcome[0] == "failed":
        raise RuntimeError(f"reading {filename!r} failed in its worker: {outcome[1]}")
    return outcome[1]


def _work(
    conn: Connection, data: bytes, spec: str, side: str, filename: str | None, limits: Limits
) -> None:
    """A worker's whole life: read the file, send the result (or the problems) back."""
    try:
        outcome: tuple[Any, ...] = ("read", _read(data, spec, side, filename, limits))
    except Invalid as exc:
        outcome = ("invalid", exc.message, exc.errors)
    except Exception as exc:  # reported by the serving process, which logs it
        outcome = ("failed", f"{type(exc).__name__}: {exc}")
    conn.send(outcome)
    conn.close()


def _start() -> Any:
    global _context
    with _guard:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["features", "service.people.reading"])
            _context = context
        return _context


def _in_worker(
    data: bytes, spec: str, side: str, filename: str | None, limits: Limits
) -> tuple[Any, ...] | None:
    """What a worker process sends back of reading the file (None: it could not start, or
    ended without an answer); past the time budget it is ended and the file refused."""
    context = _start()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_work, args=(sender, data, spec, side, filename, limits), daemon=True
    )
    deadline = (
        math.inf
        if math.isinf(limits.seconds)
        else time.monotonic() + limits.seconds + GRACE_SECONDS
    )
    with _guard:
        _running.add(process)
    try:
        try:
            process.start()
        except OSError as exc:
            log.warning("no worker to read %r (%s): read in place", filename, exc)
            return None
        finally:
            sender.close()
        while not receiver.poll(0.25):
            if not process.is_alive() and not receiver.poll(0):
                log.warning(
                    "the worker reading %r ended without an answer (exit code %s): read in place",
                    filename,
                    process.exitcode,
                )
                return None
            if time.monotonic() > deadline:
                raise Invalid(
                    f"Файл {filename or ''} не принят: проблем — 1. Ничего не сохранено.",
                    [
                        {
                            "row": None,
                            "column": None,
                            "value": None,
                            "message": f"файл читается слишком долго (больше {number(limits.seconds)} "
                            "с): чтение остановлено; разделите файл на части или сохраните как CSV",
                        }
                    ],
                )
        try:
            return receiver.recv()
        except EOFError:
            log.warning("the worker reading %r ended mid-answer: read in place", filename)
            return None
    finally:
        receiver.close()
        with _guard:
            _running.discard(process)
        if process.pid is not None:  # started
            if process.is_alive():
                process.terminate()
            process.join()


def close() -> None:
    """End the workers still reading (the application stops)."""
    with _guard:
        running = list(_running)
    for process in running:
        if process.is_alive():
            process.terminate()
