"""The table, for a terminal or as Markdown, with the machine it was measured on.

The Markdown form is what docs/costs.md pastes: every row of one run, each with its target and verdict, and
the line that says what machine, Python and server versions produced them, and when.
"""

from __future__ import annotations

from typing import Any

from .figures import Figure
from .machine import sentence

HEADER = ("figure", "value", "target", "verdict")


def _rows(figures: list[Figure]) -> list[tuple[str, str, str, str]]:
    return [(figure.name, figure.shown_value(), figure.target, figure.verdict) for figure in figures]


def text_table(figures: list[Figure]) -> str:
    """Columns padded for a terminal; the value column right-aligned, so that the numbers line up."""
    rows = [HEADER, *_rows(figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"{n:<{widths[0]}}  {v:>{widths[1]}}  {t:<{widths[2]}}  {m}".rstrip() for n, v, t, m in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cell(text: str) -> str:
    # A pipe would split the cell; an empty cell reads better as nothing than as a dash here.
    return text.replace("|", "\\|")


def markdown_table(figures: list[Figure]) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "| --- | ---: | --- | --- |",
    ]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in _rows(figures)]
    return "\n".join(lines)


def footer(results: dict[str, Any]) -> str:
    """The machine, how long the run took, and whether it was the quick one."""
    meta = results["meta"]
    kind = (
        "`python -m benchmarks --quick` (a smoke run: fewer rounds, a small log)"
        if meta["quick"]
        else ("`python -m benchmarks`")
    )
    return f"{kind}, {meta['seconds']:.0f} s, on {sentence(meta['machine'])}"


def markdown(figures: list[Figure], results: dict[str, Any]) -> str:
    return f"{markdown_table(figures)}\n\n{footer(results)}"


def text(figures: list[Figure], results: dict[str, Any]) -> str:
    return f"{text_table(figures)}\n\n{footer(results)}"
