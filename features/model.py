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
  where the mentor's answers are encoded by :func:`features.design.side_matrix`
  (``position=head`` 0/1, ``experience`` scaled to [0, 1], ...). ``scales`` keeps the bounds and
  fill value (low, high, fill) each numeric answer was scaled with, so that next term's answers are
  encoded exactly as the training answers were.

  The mentee's own answers are used when fitting (they explain part of the outcome and so keep the
  other weights unbiased) but not when scoring: a term that depends on the mentee alone does not
  change which mentor suits a mentee best, it would only decide which mentees are left without a
  mentor by their predicted chance of success -- a decision the regulation gives to coverage and
  waiting time.
- ``nastavnik-interactions``: components, the mentor's answers, the agreement of the two sides on
  shared questions and hashed crosses of every mentor answer with every mentee answer
  (:class:`InteractionsPairModel`; columns of :mod:`features.design`, described by a
  :class:`Layout` stored in the file).
- ``nastavnik-boosting``: gradient-boosted trees (:class:`BoostingPairModel`) whose trees are in
  LightGBM's documented text model format, kept as a string in the JSON file and read back with
  ``lightgbm.Booster(model_str=...)``.

Files of another format, or not JSON, are refused with a Russian message (:class:`ModelError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from features.design import CROSS_BITS, agreement, align, crosses, name_hashes, side_matrix
from features.scoring import PairModel, PairTable
from features.spec import Spec

__all__ = [
    "BoostingPairModel",
    "InteractionsPairModel",
    "Layout",
    "LinearPairModel",
    "ModelError",
    "WeightsModel",
    "load_model",
    "model_from_dict",
    "save_model",
]

FORMAT = "nastavnik-weights"
LINEAR_FORMAT = "nastavnik-linear"
INTERACTIONS_FORMAT = "nastavnik-interactions"
BOOSTING_FORMAT = "nastavnik-boosting"


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
        How each numeric mentor answer is scaled (see :func:`features.design.side_matrix`).
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
        _check_questions(pairs.spec, "mentors", self.mentor_answers)
        matrix, names, _ = side_matrix(pairs.spec, pairs.mentors, "mentors", self.scales)
        w = np.array([self.mentor_answers.get(name, 0.0) for name in names], dtype=float)
        return np.asarray(matrix @ w, dtype=float)

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


#: Questions whose answers are not crossed: schedules and consents (compared by the components).
_NOT_CROSSED = ("slots", "consent")


def _question_of(name: str) -> str:
    return re.split(r"[=~]", name, maxsplit=1)[0]


def _check_questions(spec: Spec, side: str, names: Iterable[str]) -> None:
    known = {q.key for q in spec.side(side).questions}
    unknown = sorted({_question_of(n) for n in names} - known)
    if unknown:
        who = "наставников" if side == "mentors" else "наставляемых"
        raise ModelError(f"в модели есть вопросы {who}, которых нет в анкете: {', '.join(unknown)}")


def _check_spec(name: str | None, pairs: PairTable) -> None:
    if name and pairs.spec is not None and pairs.spec.name != name:
        raise ModelError(f"модель обучена для анкеты «{name}», а не «{pairs.spec.name}»")
    if pairs.spec is None or pairs.mentors is None or pairs.mentees is None:
        raise ModelError("модели нужны ответы обеих сторон, а их нет")


@dataclass
class Layout:
    """The columns a learned model reads, rebuilt the same way for any pairs.

    Attributes
    ----------
    spec : str or None
        Name of the spec the model was learned for.
    components : list of str
        Component keys, in column order.
    mentor_columns, mentee_columns : list of str
        Answer columns of each side (:func:`features.design.side_matrix` names), in column order;
        answers outside them (a word never seen in training) are ignored.
    scales : dict
        ``{"mentors": {question: [low, high, fill]}, "mentees": {...}}``.
    agreement : list of str
        ``agree:question`` columns (:func:`features.design.agreement`).
    bits : int
        Hashed cross columns are ``2**bits`` (:func:`features.design.crosses`).
    """

    spec: str | None
    components: list[str]
    mentor_columns: list[str]
    mentee_columns: list[str]
    scales: dict[str, dict[str, list[float]]]
    agreement: list[str] = field(default_factory=list)
    bits: int = CROSS_BITS

    def sides(self, pairs: PairTable) -> tuple[sp.csr_array, sp.csr_array]:
        """Each pair's mentor's and mentee's answers, in the layout's columns."""
        _check_spec(self.spec, pairs)
        rows = []
        for side, people, columns, at in (
            ("mentors", pairs.mentors, self.mentor_columns, pairs.mentor),
            ("mentees", pairs.mentees, self.mentee_columns, pairs.mentee),
        ):
            matrix, names, _ = side_matrix(pairs.spec, people, side, self.scales.get(side, {}))
            aligned = align(matrix, names, columns)
            rows.append(sp.csr_array(aligned[np.asarray(at, dtype=np.int64)]))
        return rows[0], rows[1]

    def matrix(self, pairs: PairTable, parts: Sequence[str]) -> sp.csr_array:
        """The model inputs of the pairs: the blocks ``parts`` side by side.

        ``parts`` are among ``components``, ``mentors``, ``mentees``, ``agreement``, ``crosses``.
        """
        missing = sorted(set(self.components) - set(pairs.components))
        if missing:
            raise ModelError(
                f"в модели есть составляющие, которых нет в анкете: {', '.join(missing)}"
            )
        mentor_rows, mentee_rows = self.sides(pairs)
        blocks: list[Any] = []
        for part in parts:
            if part == "components":
                order = [list(pairs.components).index(k) for k in self.components]
                blocks.append(sp.csr_array(np.asarray(pairs.values, np.float32)[:, order]))
            elif part == "mentors":
                blocks.append(mentor_rows)
            elif part == "mentees":
                blocks.append(mentee_rows)
            elif part == "agreement":
                agree, names = agreement(
                    pairs.spec, mentor_rows, self.mentor_columns, mentee_rows, self.mentee_columns
                )
                blocks.append(align(agree, names, self.agreement))
            elif part == "crosses":
                blocks.append(self.crosses(pairs.spec, mentor_rows, mentee_rows))
            else:
                raise ValueError(f"Unknown block {part!r} of a model's inputs.")
        return sp.csr_array(sp.hstack(blocks, format="csr", dtype=np.float32))

    def crosses(self, spec: Spec, mentor_rows: Any, mentee_rows: Any) -> sp.csr_array:
        """Hashed crosses of the two sides' answers (schedules and consents are not crossed)."""
        picked = []
        for side, rows, columns in (
            ("mentors", mentor_rows, self.mentor_columns),
            ("mentees", mentee_rows, self.mentee_columns),
        ):
            skip = {q.key for q in spec.side(side).questions if q.type in _NOT_CROSSED}
            keep = np.array([_question_of(n) not in skip for n in columns], dtype=bool)
            names = [n for n, k in zip(columns, keep, strict=True) if k]
            picked.append((sp.csr_array(rows)[:, keep], name_hashes(names, side)))
        (a, ha), (b, hb) = picked
        return crosses(a, ha, b, hb, self.bits)

    def names(self, parts: Sequence[str]) -> list[str]:
        """Column names of :meth:`matrix` (crosses as ``cross:BUCKET``)."""
        named = {
            "components": self.components,
            "mentors": [f"mentor:{n}" for n in self.mentor_columns],
            "mentees": [f"mentee:{n}" for n in self.mentee_columns],
            "agreement": self.agreement,
            "crosses": [f"cross:{k}" for k in range(1 << self.bits)],
        }
        return [name for part in parts for name in named[part]]

    def to_dict(self) -> dict[str, Any]:
        """The layout's part of a model file."""
        return {
            "spec": self.spec,
            "components": self.components,
            "mentor_columns": self.mentor_columns,
            "mentee_columns": self.mentee_columns,
            "scales": self.scales,
            "agreement": self.agreement,
            "bits": self.bits,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Layout:
        """Rebuild from :meth:`to_dict` (KeyError or TypeError for a broken file)."""
        return cls(
            raw.get("spec"),
            [str(k) for k in raw["components"]],
            [str(k) for k in raw["mentor_columns"]],
            [str(k) for k in raw["mentee_columns"]],
            {
                str(side): {str(k): [float(x) for x in v] for k, v in scales.items()}
                for side, scales in raw.get("scales", {}).items()
            },
            [str(k) for k in raw.get("agreement", [])],
            int(raw.get("bits", CROSS_BITS)),
        )


class InteractionsPairModel:
    """Logistic score on components, the mentor's answers, agreement and mentor × mentee crosses.

    The file (``nastavnik-interactions``) holds the :class:`Layout` and the weights by name::

        {"format": "nastavnik-interactions", "layout": {...}, "intercept": -0.3,
         "weights": {"needs": 1.2, "mentor:category=highest": 0.4, "agree:interests": 0.9},
         "crosses": {"81234": 0.25, "1403": -0.1}}

    ``crosses`` maps a hashed cross column (see :func:`features.design.crosses`) to its weight.
    As in :class:`LinearPairModel`, the mentee's own answers are fitted but replaced by their
    average when scoring (the intercept holds it): crosses, which depend on both people, stay.
    """

    PARTS = ("components", "mentors", "agreement", "crosses")

    def __init__(
        self,
        layout: Layout,
        weights: Mapping[str, float],
        crosses: Mapping[int, float],
        intercept: float = 0.0,
    ) -> None:
        self.layout = layout
        self.named = {str(k): float(v) for k, v in weights.items()}
        self.crosses = {int(k): float(v) for k, v in crosses.items()}
        self.intercept = float(intercept)
        self.spec = layout.spec

    @property
    def weights(self) -> dict[str, float]:
        """Component weights: they order a pair's reasons (see ``features.PairModel``)."""
        return {k: self.named.get(k, 0.0) for k in self.layout.components}

    def __repr__(self) -> str:
        return f"InteractionsPairModel(spec={self.spec!r}, crosses={len(self.crosses)})"

    def coefficients(self) -> np.ndarray:
        """Weights in the column order of ``layout.matrix(pairs, PARTS)``."""
        names = self.layout.names(self.PARTS[:-1])
        w = np.zeros(len(names) + (1 << self.layout.bits))
        w[: len(names)] = [self.named.get(n, 0.0) for n in names]
        for bucket, value in self.crosses.items():
            w[len(names) + bucket] = value
        return w

    def score(self, pairs: PairTable) -> np.ndarray:
        """Score of each pair in (0, 1): the predicted chance of success."""
        x = self.layout.matrix(pairs, self.PARTS)
        return 1.0 / (1.0 + np.exp(-(self.intercept + np.asarray(x @ self.coefficients()))))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form read by :func:`load_model`."""
        return {
            "format": INTERACTIONS_FORMAT,
            "spec": self.spec,
            "layout": self.layout.to_dict(),
            "intercept": self.intercept,
            "weights": self.named,
            "crosses": {str(k): v for k, v in sorted(self.crosses.items())},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> InteractionsPairModel:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            Layout.from_dict(raw["layout"]),
            raw["weights"],
            {int(k): float(v) for k, v in raw.get("crosses", {}).items()},
            raw.get("intercept", 0.0),
        )


class BoostingPairModel:
    """Gradient-boosted trees (LightGBM) on components, both sides' answers and their agreement.

    The trees find by themselves which mentor traits suit which mentee traits. The file
    (``nastavnik-boosting``) is JSON with the :class:`Layout` and the trees in LightGBM's own
    documented text format (``Booster.model_to_string``, read back with
    ``lightgbm.Booster(model_str=...)``; no pickle)::

        {"format": "nastavnik-boosting", "layout": {...}, "booster": "tree\\nversion=v4\\n..."}

    The predicted chance of success includes the mentee's own answers (trees do not separate the
    terms); it ranks the mentors of one mentee as the other models do.
    """

    PARTS = ("components", "mentors", "mentees", "agreement")

    def __init__(self, layout: Layout, booster: Any) -> None:
        self.layout = layout
        self.booster = booster
        self.spec = layout.spec

    def __repr__(self) -> str:
        return f"BoostingPairModel(spec={self.spec!r}, trees={self.booster.num_trees()})"

    def score(self, pairs: PairTable) -> np.ndarray:
        """Score of each pair in (0, 1): the predicted chance of success."""
        x = self.layout.matrix(pairs, self.PARTS)
        if x.shape[0] == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(sp.csr_matrix(x)), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form read by :func:`load_model`."""
        return {
            "format": BOOSTING_FORMAT,
            "spec": self.spec,
            "layout": self.layout.to_dict(),
            "booster": self.booster.model_to_string(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BoostingPairModel:
        """Rebuild from :meth:`to_dict`."""
        import lightgbm

        text = raw["booster"]
        if not isinstance(text, str):
            raise TypeError("booster: ожидался текст модели LightGBM")
        try:
            booster = lightgbm.Booster(model_str=text)
        except lightgbm.basic.LightGBMError as error:
            raise ValueError(f"деревья LightGBM не читаются: {error}") from None
        return cls(Layout.from_dict(raw["layout"]), booster)


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
    if kind == INTERACTIONS_FORMAT:
        return InteractionsPairModel.from_dict(raw)
    if kind == BOOSTING_FORMAT:
        return BoostingPairModel.from_dict(raw)
    raise ModelError(f"нет весов nastavnik (format: {', '.join(_FORMATS)})")


_FORMATS = (FORMAT, LINEAR_FORMAT, INTERACTIONS_FORMAT, BOOSTING_FORMAT)


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
