"""``python -m experiments.cohorts examples [DIR]`` rewrites the sample files."""

import sys

from experiments.cohorts.examples import main

main(sys.argv[1:])
