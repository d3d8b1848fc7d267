"""Synthetic cohorts with a known truth: the sample exports, the city benchmarks and the evaluation.

A seeded generator of schools and cities grounded in DOMAIN.md (school sizes, the share of young
specialists, roles and forms, the eight areas of professional difficulty, subjects, schedules, remote
acceptance). Each person has hidden traits (true needs and strengths, a communication style, a
mentor's skill, a mentee's motivation); the questionnaire answers are noisy reports of them, written
exactly as an online form service exports them (Russian headers of the default specs, answers joined
by commas, a timestamp column). ``Cohort.compatibility`` gives the hidden true compatibility of any
pairs and ``Cohort.outcomes`` simulated outcomes (satisfaction 1–10 of both sides, finished or not),
so that methods can be scored against a truth they never see.

Examples
--------
>>> cohort = make_school(seed=1, spec="teacher")
>>> mentors, mentees = cohort.answers("mentors"), cohort.answers("mentees")
>>> len(mentors) > 5 and len(mentees) > 5
True
>>> outcome = cohort.outcomes([0, 1], [0, 0], seed=3)
>>> list(outcome.columns)  # doctest: +NORMALIZE_WHITESPACE
['mentee', 'mentor', 'mentee_id', 'mentor_id', 'compatibility', 'mentee_satisfaction',
 'mentor_satisfaction', 'finished']

``python -m experiments.cohorts examples`` rewrites the sample files under ``examples/``.

Modules: ``names`` (made-up people and schools), ``draws`` (seeded draws, the export writer),
``teachers`` and ``pupils`` (the two default questionnaires), ``hidden`` (the truth),
``outcomes`` (:class:`Cohort`: compatibility, outcomes, history), ``make`` (:func:`make_school`,
:func:`make_city`), ``examples`` (the sample files), ``interactions``
(:func:`make_interactions`: a truth that needs learning, for the tests of ``nastavnik learn``),
``groups`` (:func:`make_groups`: a city of pupils with groups and mentees needing two mentors).
"""

from experiments.cohorts.examples import EXAMPLES, main, write_examples
from experiments.cohorts.groups import groups_spec, groups_spec_source, make_groups
from experiments.cohorts.hidden import Hidden
from experiments.cohorts.interactions import InteractionCohort, make_interactions
from experiments.cohorts.make import make_city, make_school
from experiments.cohorts.outcomes import TODAY, Cohort

__all__ = [
    "EXAMPLES",
    "TODAY",
    "Cohort",
    "Hidden",
    "InteractionCohort",
    "groups_spec",
    "groups_spec_source",
    "main",
    "make_city",
    "make_groups",
    "make_interactions",
    "make_school",
    "write_examples",
]
