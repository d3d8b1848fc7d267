"""Learned models that replace the spec's hand weights: the file format and the simplest model.

``nastavnik match --model FILE`` loads a model with :func:`load_model` and passes it to
``score_pairs(..., model=...)``. A model is any object with ``score(pairs: PairTable) -> array``
(see :class:`features.scoring.PairModel`). Two file formats are read:

- JSON weights (``.json``)::

      {"format": "nastavnik-weights", "spec": "teacher",
       "weights": {"needs": 1.3, "subject": 0.8}, "intercept": -1.2, "link": "logistic"}

  ``link: "mean"`` (the default) scores ``sum(w * value) / sum(w)`` like the spec;
  ``link: "logistic"`` scores ``1 / (1 + exp(-(intercept + sum(w * value))))`` as a logistic
  regression on the component values does.
- A pickled model (``.joblib``, ``.pkl``) written by ``joblib.dump`` of an object with ``score``;
  only load files you made yourself: unpickling runs code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from features.scoring import PairModel, PairTable

__all__ = ["ModelError", "WeightsModel", "load_model", "save_model"]

FORMAT = "nastavnik-weights"


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


def save_model(model: WeightsModel, path: str | Path) -> None:
    """Write weights as JSON for :func:`load_model`."""
    Path(path).write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=2), "utf-8")


def load_model(path: str | Path) -> PairModel:
    """Read a model file (JSON weights, or a joblib pickle of an object with ``score``).

    Raises
    ------
    ModelError
        The file is missing, unreadable, or holds no usable model.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"файл модели «{path}» не найден")
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(path.read_text("utf-8"))
            if raw.get("format") == "nastavnik-linear":
                from features.learned import LinearPairModel

                return LinearPairModel.from_dict(raw)
            if raw.get("format") != FORMAT:
                raise ModelError(f"в «{path.name}» нет весов nastavnik (format: {FORMAT})")
            return WeightsModel(
                raw["weights"], raw.get("intercept", 0.0), raw.get("link", "mean"), raw.get("spec")
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as error:
            if isinstance(error, ModelError):
                raise
            raise ModelError(f"файл модели «{path.name}» не читается: {error}") from None
    import joblib

    try:
        model = joblib.load(path)
    except Exception as error:  # any unpickling failure means an unusable file
        raise ModelError(f"файл модели «{path.name}» не читается: {error}") from None
    if not isinstance(model, PairModel):
        raise ModelError(f"в «{path.name}» нет модели с методом score(pairs)")
    return model
