"""Benchmarks for score-shim: what the wrapper costs, measured against the bare server in the same run.

Run ``python -m benchmarks`` from the repository root (``--quick`` for a smoke run, ``--markdown`` for the
table docs/costs.md pastes). Both sides of every comparison are measured in one run, in alternating rounds
whose order rotates, and the figure is the median of the per-round differences or ratios
(`benchmarks.rounds`), so that machine noise (other load, CPU frequency) hits every side alike and the
comparison stays meaningful on a shared CI runner.

Modules, one concern each: `served` (+ `served_child`, `children`): the served path in process;
`throughput`: the real gunicorn server over HTTP; `imports`: start-up in fresh interpreters;
`logs_memory`: ``score-shim logs`` on a 1 GB log; `logs`, `lines`, `probe`, `overhead`: the reader, the
pipe lock, the model probe, ``wrap_run`` alone; `debugger`: the debug port. `plan` sizes a run,
`targets` holds the targets, `figures` turns results into rows with verdicts, `render` prints them,
`machine` says what they were measured on.
"""
