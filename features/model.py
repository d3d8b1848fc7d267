"""Learned models that replace the spec's hand weights: the models and their file formats.

``nastavnik match --model FILE`` loads a model with :func:`load_model` and passes it to
``score_pairs(..., model=...)``. A model is any object with ``score(pairs: PairTable) -> array``
(see :class:`features.scoring.PairModel`). ``nastavnik learn`` (:mod:`features.learning`) writes
them. Every format is JSON (a model file never holds code: no pickle is written or read):

- ``nastavnik-weights``: the spec's components through learned weights (:class:`WeightsModel`)::

      {"format": "nastavnik-weights", "spec": "teacher",
       "weights": {"needs": 1.3, "subject": 0.8}, "intercept": -1.2, "link": "logistic"}

  ``link: "mean"`` (the default) scores ``sum(w * value) / sum(w)`` like the spec;
  ``link: "logistic"`` scores ``1 / (1 + exp(-(intercept + sum(w * value))))`` as a logistic
  regression on the component values does.
- ``nastavnik-linear``: components and the mentor's encoded answers (:class:`LinearPairModel`)::

      {"format": "nastavnik-linear", "spec": "teacher", "intercept": -0.4,
       "components": {"needs": 1.8, "subject": 0.6},
       "mentor_answers": {"category": 0.3, "position=head": 0.1, "experience": 0.2},
       "scales": {"experience": [0.0, 60.0, 0.25]}}

  The score of a pair is a logistic regression
  ``1 / (1 + exp(-(intercept + sum(w_c * component_c) + sum(w_f * mentor_answer_f))))``
  where the mentor's answers are encoded by :class:`features.encoders.QuestionnaireEncoder`
  (``position=head`` 0/1, ``experience`` scaled to [0, 1], ...). ``scales`` keeps the bounds and
  fill value (low, high, fill) each numeric answer was scaled with, so that next term's answers are
  encoded exactly as the training answers were.

  The mentee's own answers are used when fitting (they explain part of the outcome and so keep the
  other weights unbiased) but not when scoring: a term that depends on the mentee alone does not
  change which mentor suits a mentee best, it would only decide which mentees are left without a
  mentor by their predicted chance of success -- a decision the regulation gives to coverage and
  waiting time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from features.answers import Answers
from features.encoders import QuestionnaireEncoder, ScaleEncoder
from features.scoring import PairModel, PairTable
from features.spec import Spec

__all__ = [
    "LinearPairModel",
    "ModelError",
    "WeightsModel",
    "encode_answers",
    "load_model",
    "save_model",
]

FORMAT = "nastavnik-weights"
LINEAR_FORMAT = "nastavnik-linear"


class ModelError(ValueError):
    """A model file that cannot be used (the message is Russian: a curator may run the command)."""


class WeightsModel:
    """Score = the component values through learned weights.

    Parameters
    ----------
    weights : mapping of str to float
        Weight of each component key; components not named weigh 0.
    intercept : float
        Added before the logistic link.
    link : {"mean", "logistic"}
        How the weighted sum becomes a score in [0, 1].
    spec : str or None
        Name of the spec the weights were learned for (checked when scoring).

    Examples
    --------
    >>> import numpy as np
    >>> model = WeightsModel({"needs": 2.0, "subject": 1.0})
    >>> pairs = PairTable(None, None, None, np.zeros(2), np.zeros(2),
    ...                   np.array([[1.0, 0.0], [0.5, 1.0]]), ("needs", "subject"), np.ones(2))
    >>> model.score(pairs).round(3).tolist()
    [0.667, 0.667]
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        intercept: float = 0.0,
        link: str = "mean",
        spec: str | None = None,
    ) -> None:
        if link not in ("mean", "logistic"):
            raise ValueError(
                f"The 'link' parameter of WeightsModel must be 'mean' or 'logistic'. Got {link!r} instead."
            )
        self.weights = {str(k): float(v) for k, v in weights.items()}
        self.intercept = float(intercept)
        self.link = link
        self.spec = spec

    def score(self, pairs: PairTable) -> np.ndarray:
        """Score of each pair in [0, 1]."""
        if self.spec and pairs.spec is not None and pairs.spec.name != self.spec:
            raise ModelError(f"модель обучена для анкеты «{self.spec}», а не «{pairs.spec.name}»")
        unknown = sorted(set(self.weights) - set(pairs.components))
        if unknown:
            raise ModelError(
                f"в модели есть составляющие, которых нет в анкете: {', '.join(unknown)}"
            )
        w = np.array([self.weights.get(k, 0.0) for k in pairs.components], dtype=float)
        total = pairs.values @ w
        if self.link == "logistic":
            return 1.0 / (1.0 + np.exp(-(self.intercept + total)))
        positive = w.clip(min=0).sum()
        return np.clip(total / positive, 0.0, 1.0) if positive > 0 else np.zeros(len(total))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form read by :func:`load_model`."""
        return {
            "format": FORMAT,
            "spec": self.spec,
            "weights": self.weights,
            "intercept": self.intercept,
            "link": self.link,
        }


def encode_answers(
    spec: Spec,
    answers: Answers,
    side: str,
    scales: Mapping[str, Sequence[float]] | None = None,
) -> tuple[np.ndarray, list[str], dict[str, list[float]]]:
    """One side's answers as model inputs, with numeric answers scaled as given or as learned.

    Parameters
    ----------
    spec : Spec
    answers : Answers
    side : {"mentors", "mentees"}
    scales : mapping, optional
        Question key -> (low, high, fill) of a numeric answer; None learns them from ``answers``.

    Returns
    -------
    matrix : numpy.ndarray of float32, shape (n_people, n_features)
    names : list of str
        ``question=answer`` or ``question`` for each column.
    scales : dict
        The (low, high, fill) used for each numeric answer.
    """
    encoder = QuestionnaireEncoder(spec, side).fit(answers)
    used: dict[str, list[float]] = {}
    for key, encoder_of_question in encoder.encoders_.items():
        if not isinstance(encoder_of_question, ScaleEncoder):
            continue
        if scales is not None and key in scales:
            low, high, fill = (float(v) for v in scales[key])
            encoder_of_question.low_, encoder_of_question.high_ = low, high
            encoder_of_question.fill_ = fill
        used[key] = [
            encoder_of_question.low_,
            encoder_of_question.high_,
            encoder_of_question.fill_,
        ]
    return encoder.transform(answers), list(encoder.feature_names_), used


class LinearPairModel:
    """Logistic score on the component values and the mentor's encoded answers.

    Parameters
    ----------
    components : mapping of str to float
        Weight of each component key; components not named weigh 0.
    mentor_answers : mapping of str to float
        Weight of each encoded mentor answer (``question=answer`` or ``question``).
    intercept : float
    scales : mapping of str to (low, high, fill), optional
        How each numeric mentor answer is scaled (see :func:`encode_answers`).
    spec : str or None
        Name of the spec the model was learned for (checked when scoring).

    Examples
    --------
    >>> from features import answers_from_records, load_spec, score_pairs
    >>> spec = load_spec("teacher")
    >>> base = {"meeting_format": ["in_person"], "consent": True, "subjects": ["math"]}
    >>> mentor = dict(base, position="teacher", capacity=1, competences=["methods"], experience=30)
    >>> mentors = answers_from_records(spec, "mentors", [
    ...     dict(mentor, person_id="t1", full_name="А", category="highest"),
    ...     dict(mentor, person_id="t2", full_name="Б", category="first")])
    >>> mentees = answers_from_records(spec, "mentees", [dict(base, person_id="y1",
    ...     full_name="В", status="young", experience=1, difficulties={"methods": "постоянно"})])
    >>> model = LinearPairModel({"needs": 1.0}, {"category": 2.0, "position=head": 1.0},
    ...                         intercept=-1.0, spec="teacher")
    >>> scores = score_pairs(spec, mentors, mentees, model=model).scores.toarray()
    >>> scores.round(3).tolist()
    [[0.881, 0.802]]
    """

    def __init__(
        self,
        components: Mapping[str, float],
        mentor_answers: Mapping[str, float] | None = None,
        intercept: float = 0.0,
        scales: Mapping[str, Sequence[float]] | None = None,
        spec: str | None = None,
    ) -> None:
        self.components = {str(k): float(v) for k, v in components.items()}
        self.mentor_answers = {str(k): float(v) for k, v in (mentor_answers or {}).items()}
        self.intercept = float(intercept)
        self.scales = {str(k): [float(x) for x in v] for k, v in (scales or {}).items()}
        self.spec = spec

    @property
    def weights(self) -> dict[str, float]:
        """Component weights: they order a pair's reasons (see ``features.PairModel``)."""
        return dict(self.components)

    def __repr__(self) -> str:
        return (
            f"LinearPairModel(spec={self.spec!r}, components={len(self.components)}, "
            f"mentor_answers={len(self.mentor_answers)})"
        )

    def score(self, pairs: PairTable) -> np.ndarray:
        """Score of each pair in (0, 1): the predicted chance of success."""
        unknown = sorted(set(self.components) - set(pairs.components))
        if unknown:
            raise ModelError(
                f"в модели есть составляющие, которых нет в анкете: {', '.join(unknown)}"
            )
        if self.spec and pairs.spec is not None and pairs.spec.name != self.spec:
            raise ModelError(f"модель обучена для анкеты «{self.spec}», а не «{pairs.spec.name}»")
        w = np.array([self.components.get(k, 0.0) for k in pairs.components], dtype=float)
        total = self.intercept + pairs.values @ w
        if self.mentor_answers:
            total = total + self._mentor_terms(pairs)[np.asarray(pairs.mentor, dtype=np.int64)]
        return 1.0 / (1.0 + np.exp(-total))

    def _mentor_terms(self, pairs: PairTable) -> np.ndarray:
        if pairs.spec is None or pairs.mentors is None:
            raise ModelError("модели нужны ответы наставников, а их нет")
        matrix, names, _ = encode_answers(pairs.spec, pairs.mentors, "mentors", self.scales)
        unknown = sorted(set(self.mentor_answers) - set(names))
        if unknown:
            raise ModelError(
                f"в модели есть ответы наставников, которых нет в анкете: {', '.join(unknown)}"
            )
        w = np.array([self.mentor_answers.get(name, 0.0) for name in names], dtype=float)
        return matrix @ w

    def to_dict(self) -> dict[str, Any]:
        """The JSON form read by :func:`load_model`."""
        return {
            "format": LINEAR_FORMAT,
            "spec": self.spec,
            "intercept": self.intercept,
            "components": self.components,
            "mentor_answers": self.mentor_answers,
            "scales": self.scales,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LinearPairModel:
        """Rebuild a model from :meth:`to_dict` (a KeyError or TypeError for a broken file)."""
        return cls(
            raw["components"],
            raw.get("mentor_answers") or {},
            raw.get("intercept", 0.0),
            raw.get("scales") or {},
            raw.get("spec"),
        )


def save_model(model: PairModel, path: str | Path) -> Path:
    """Write a model as JSON for :func:`load_model` (the parent folder is created).

    Raises
    ------
    TypeError
        The model has no JSON form (``to_dict``).
    """
    to_dict = getattr(model, "to_dict", None)
    if to_dict is None:
        raise TypeError(f"Only models with a JSON form can be saved. Got {type(model).__name__}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def model_from_dict(raw: Mapping[str, Any]) -> PairModel:
    """Rebuild a model from its JSON form (the ``format`` key says which).

    Raises
    ------
    ModelError
        An unknown ``format``.
    KeyError, TypeError, ValueError
        A broken file of a known format.
    """
    kind = raw.get("format") if isinstance(raw, Mapping) else None
    if kind == FORMAT:
        return WeightsModel(
            raw["weights"], raw.get("intercept", 0.0), raw.get("link", "mean"), raw.get("spec")
        )
    if kind == LINEAR_FORMAT:
        return LinearPairModel.from_dict(raw)
    raise ModelError(f"нет весов nastavnik (format: {', '.join(_FORMATS)})")


_FORMATS = (FORMAT, LINEAR_FORMAT)


def load_model(path: str | Path) -> PairModel:
    """Read a model file written by :func:`save_model` (``nastavnik learn``): JSON only.

    Raises
    ------
    ModelError
        The file is missing, not JSON, or holds no usable model.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"файл модели «{path}» не найден")
    if path.suffix.lower() != ".json":
        raise ModelError(
            f"файл модели «{path.name}»: модели хранятся в JSON (.json), другие форматы не читаются"
        )
    try:
        return model_from_dict(json.loads(path.read_text("utf-8")))
    except ModelError as error:
        raise ModelError(f"в «{path.name}» {error}") from None
    except (
        json.JSONDecodeError,
        UnicodeDecodeError,
        KeyError,
        TypeError,
        AttributeError,
        ValueError,
    ) as error:
        raise ModelError(f"файл модели «{path.name}» не читается: {error}") from None
