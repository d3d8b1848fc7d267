"""Learning pair success from past pairs with outcomes: ``nastavnik learn``.

The input is any programme's history: the questionnaires of both sides (validated by ``features``)
and a table of past pairs with the columns ``mentor_id``, ``mentee_id`` (the values of the spec's
identifying question) and ``outcome`` (a number such as a satisfaction score, or 1/0 for finished or
not), optionally a column to group the folds by (``--group-by``). :func:`learn` cross-validates on
the same folds the spec's hand weights (``hand``, nothing fitted), the kinds of model asked for and
any reference method, then fits the chosen kind on the whole history; the model is saved as JSON
(:mod:`features.model`) for ``nastavnik match --model``, ``nastavnik evaluate`` and the service.

Modules:

- :mod:`~features.learning.history`: the history file (every problem at once, in Russian), the
  same pair with conflicting outcomes, the component values of past pairs;
- :mod:`~features.learning.folds`: folds by mentee (default: every pair tested exactly once; the
  mentor's other pairs may be in training), by a user's column, or by person;
- :mod:`~features.learning.fit`: the kinds (``weights``, ``linear``, ``interactions``,
  ``boosting``) on sparse inputs (:mod:`features.design`);
- :mod:`~features.learning.validate`: fold mean ± sd and pooled quality with a bootstrap interval,
  ``auto`` picking the simplest kind unless a more complex one wins beyond noise.

0/1 outcomes are scored by ROC-AUC, numbers by Spearman's rank correlation.

The encoders of the answers (bounds and fill values of numeric answers, the answer columns) are
fitted on the questionnaires of all the history's people, outcomes unseen: answers are known for next
term's people too.
"""

from features.learning.fit import KINDS, LABELS, Design, design, fit_model, predict
from features.learning.folds import PersonGroupKFold, group_folds, person_folds
from features.learning.history import (
    COLUMNS,
    MIN_PAIRS,
    History,
    LearnError,
    history_table,
    read_history,
)
from features.learning.validate import Learned, Reference, learn, pooled_quality, quality
from features.model import save_model as save

__all__ = [
    "COLUMNS",
    "KINDS",
    "LABELS",
    "MIN_PAIRS",
    "Design",
    "History",
    "LearnError",
    "Learned",
    "PersonGroupKFold",
    "Reference",
    "design",
    "fit_model",
    "group_folds",
    "history_table",
    "learn",
    "person_folds",
    "pooled_quality",
    "predict",
    "quality",
    "read_history",
    "save",
]
