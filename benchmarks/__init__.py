"""Benchmarks for score-shim: what the wrapper costs, measured against the bare server in the same run.

Run ``python -m benchmarks`` from the repository root. Both sides of every comparison are measured in
one process, in alternating rounds, so that machine noise (other load, CPU frequency) hits both alike and
the ratio stays meaningful on a shared CI runner.
"""
