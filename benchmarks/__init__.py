"""Ratio benchmarks: both sides of each comparison run in the same process run, alternating."""
