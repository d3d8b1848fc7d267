"""Questionnaires in, scored pairs out.

The flow is: a questionnaire spec (:func:`load_spec`) says which column is which question; an export
is validated whole into :class:`Answers` (:func:`read_answers`, or :func:`answers_from_records` for
stored records); :func:`score_pairs` applies the hard rules and scores every allowed pair into a
sparse matrix with the component values and Russian reasons kept (:class:`PairScores`), ready for
``matching.Problem``; :func:`proposals` and :func:`write_proposals` turn solved pairs into the tables
a curator reads. ``nastavnik match`` (``features/cli.py``) runs the whole chain on two files.

A learned model replaces the spec's weights through ``score_pairs(..., model=...)``: any object with
``score(pairs: PairTable) -> array`` (:class:`PairModel`); :class:`WeightsModel` and
:func:`load_model` give the file format.

Examples
--------
>>> from features import answers_from_records, load_spec, score_pairs
>>> spec = load_spec("teacher")
>>> base = {"meeting_format": ["in_person"], "consent": True, "subjects": ["physics"]}
>>> mentors = answers_from_records(spec, "mentors", [
...     dict(base, person_id="t1", full_name="Петров П. П.", position="teacher", experience=20,
...          capacity=2, competences=["methods", "ict"]),
...     dict(base, person_id="t2", full_name="Сидорова А. А.", position="teacher", experience=4,
...          capacity=1, competences=["legal"], consent=False)])
>>> mentees = answers_from_records(spec, "mentees", [
...     dict(base, person_id="y1", full_name="Иванова И. И.", status="young", experience=1,
...          difficulties={"methods": "постоянно", "ict": "иногда"})])
>>> pairs = score_pairs(spec, mentors, mentees)
>>> pairs.scores.shape, pairs.n_pairs, pairs.capacity.tolist()
((1, 2), 1, [2, 0])
>>> pairs.reasons(0, 0)
['закрывает 2 из 2 запросов: методика, ИКТ', 'один предмет: физика', 'стаж наставника больше на 19 лет']
>>> pairs.blocked(0, 1)
['нет согласия наставника', 'у наставника нет мест']
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from features.answers import ASSIGN_WITHIN_DAYS, Answers, waiting_priority
    from features.encoders import (
        ChoiceEncoder,
        QuestionnaireEncoder,
        ScaleEncoder,
        SlotEncoder,
        TextEncoder,
    )
    from features.importer import ImportFailed, ImportIssue, answers_from_records, read_answers
    from features.model import ModelError, WeightsModel, load_model, save_model
    from features.report import Proposals, proposals, write_proposals
    from features.scoring import PairModel, PairScores, PairTable, score_pairs
    from features.spec import Spec, SpecError, load_spec

# The package's names are imported on first use (PEP 562): the command line imports
# features.cli for every command, and pandas and scikit-learn need seconds to load.
_HOME = {
    "ASSIGN_WITHIN_DAYS": "answers",
    "Answers": "answers",
    "waiting_priority": "answers",
    "ChoiceEncoder": "encoders",
    "QuestionnaireEncoder": "encoders",
    "ScaleEncoder": "encoders",
    "SlotEncoder": "encoders",
    "TextEncoder": "encoders",
    "ImportFailed": "importer",
    "ImportIssue": "importer",
    "answers_from_records": "importer",
    "read_answers": "importer",
    "ModelError": "model",
    "WeightsModel": "model",
    "load_model": "model",
    "save_model": "model",
    "Proposals": "report",
    "proposals": "report",
    "write_proposals": "report",
    "PairModel": "scoring",
    "PairScores": "scoring",
    "PairTable": "scoring",
    "score_pairs": "scoring",
    "Spec": "spec",
    "SpecError": "spec",
    "load_spec": "spec",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'features' has no attribute {name!r}")
    value = getattr(import_module(f"features.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ASSIGN_WITHIN_DAYS",
    "Answers",
    "ChoiceEncoder",
    "ImportFailed",
    "ImportIssue",
    "ModelError",
    "PairModel",
    "PairScores",
    "PairTable",
    "Proposals",
    "QuestionnaireEncoder",
    "ScaleEncoder",
    "SlotEncoder",
    "Spec",
    "SpecError",
    "TextEncoder",
    "WeightsModel",
    "answers_from_records",
    "load_model",
    "load_spec",
    "proposals",
    "read_answers",
    "save_model",
    "score_pairs",
    "waiting_priority",
    "write_proposals",
]
