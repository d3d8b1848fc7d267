"""Offline evaluation and benchmarks: synthetic cohorts, metrics, baselines, learned compatibility."""
