"""The solver: the best set of mentoring pairs under the rules of the target model of mentoring.

Pure numpy/scipy/OR-Tools; knows nothing of questionnaires, databases or HTTP.

>>> import numpy as np
>>> from matching import Problem, solve, suggest, violations
>>> problem = Problem(np.array([[0.9, 0.4], [0.8, 0.2], [0.2, 0.7]]), capacity=[1, 2])
>>> result = solve(problem)
>>> result.pairs
[(0, 1), (1, 0), (2, 1)]
>>> violations(problem, result.pairs)
[]
>>> suggest(problem, 2)
[(1, 0.7), (0, 0.2)]
"""

from matching.check import violations
from matching.cohesion import Cohesive, cohesion_of, solve_cohesive
from matching.errors import ProblemError, Violation
from matching.problem import MAX_CAPACITY, OBJECTIVES, Objective, Problem
from matching.solver import Engine, MapFunction, Matching, SubProblem, blocks, solve, suggest

__all__ = [
    "MAX_CAPACITY",
    "OBJECTIVES",
    "Cohesive",
    "Engine",
    "MapFunction",
    "Matching",
    "Objective",
    "Problem",
    "ProblemError",
    "SubProblem",
    "Violation",
    "blocks",
    "cohesion_of",
    "solve",
    "solve_cohesive",
    "suggest",
    "violations",
]
