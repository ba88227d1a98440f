"""The arithmetic of alternating rounds: who goes first, and the median of the per-round comparisons.

Every comparison in the package (bare against wrapped, one server against another) is measured in rounds
that alternate between its sides, the order rotating each round, so that a burst of other load on a shared
machine, or CPU frequency drifting, hits every side alike. The figure is then the median of the per-round
differences or ratios, not the difference of the medians: a round disturbed by the machine moves one
per-round value, which the median shrugs off. The spread (quartiles, worst and best round) goes to the
JSON, so that a reader can tell a real cost from noise.

Pure functions only: the tests check them without timing anything.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def rotated(items: Sequence[T], index: int) -> list[T]:
    """``items`` in the order of round ``index``: each round starts one further along, so that every side
    goes first, second, ... equally often (with two sides: bare first, then wrapped first, ...)."""
    if not items:
        return []
    shift = index % len(items)
    return [*items[shift:], *items[:shift]]


def differences(after: Sequence[float], before: Sequence[float]) -> list[float]:
    """``after[i] - before[i]`` for each round (the two sides must have the same rounds)."""
    if len(after) != len(before):
        raise ValueError(f"rounds differ: {len(after)} against {len(before)}")
    return [a - b for a, b in zip(after, before, strict=True)]


def ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """``numerator[i] / denominator[i]`` for each round."""
    if len(numerator) != len(denominator):
        raise ValueError(f"rounds differ: {len(numerator)} against {len(denominator)}")
    if any(value == 0 for value in denominator):
        raise ValueError("a round measured zero: nothing to compare with")
    return [n / d for n, d in zip(numerator, denominator, strict=True)]


def spread(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """Median, quartiles and extremes of per-round values: what the JSON keeps beside each figure."""
    if not values:
        raise ValueError("no rounds")
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": round(statistics.median(ordered), digits),
        "q1": round(q1, digits),
        "q3": round(q3, digits),
        "min": round(ordered[0], digits),
        "max": round(ordered[-1], digits),
        "rounds": len(ordered),
    }


def compare(bare: Sequence[float], wrapped: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """Both sides' medians, and the median of the per-round differences and ratios (wrapped against bare)."""
    added = differences(wrapped, bare)
    ratio = ratios(wrapped, bare)
    return {
        "bare": round(statistics.median(bare), digits),
        "wrapped": round(statistics.median(wrapped), digits),
        "added": round(statistics.median(added), digits),
        "ratio": round(statistics.median(ratio), 4),
        "added_spread": spread(added, digits),
        "ratio_spread": spread(ratio, 4),
        "bare_per_round": [round(value, digits) for value in bare],
        "wrapped_per_round": [round(value, digits) for value in wrapped],
    }


def calibrate(seconds_per_round: float, seconds_per_call: float, least: int, most: int) -> int:
    """How many calls make a round last about ``seconds_per_round`` (pyperf's calibration, by hand), within
    ``[least, most]``: long enough to dwarf the timer, short enough that many rounds fit and the run stays
    bounded whatever the machine does."""
    if least > most:
        raise ValueError(f"least {least} > most {most}")
    if seconds_per_call <= 0:
        return most
    return max(least, min(most, round(seconds_per_round / seconds_per_call)))
