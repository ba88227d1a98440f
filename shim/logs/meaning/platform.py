"""What the platform says about a deployment, in the text users paste beside (or instead of) container output.

``kubectl describe pod`` and Kubernetes events, ``az ml online-deployment get-logs`` and the Azure CLI's
errors, image build logs, and the crash lines of older images: each known failure is noted in
`shim.logs.tally.explained` with its cause, its fix and the section of Azure ML's troubleshooting guide.

Only bare records get here (a line no reader knew, with the indented lines that followed it), and each is
looked at with one regular expression first (`_MARKERS`): most records are nothing of the kind.
"""

from __future__ import annotations

import re

from ..record import Record
from ..tally.explained import Explanation
from ..tally.totals import Tally

_OOM = Explanation(
    "the container was killed for memory (OOMKilled)",
    "the scoring container used more memory than its limit, and the kernel killed it",
    "use an instance type with more memory, fewer workers (WORKER_COUNT), or a smaller model or batch",
    "#error-oomkilled",
)

_MARKERS = re.compile(r"OOMKilled")


def on_platform_text(tally: Tally, record: Record, text: str) -> None:
    """Note the platform's failures that ``text`` (a bare record's lines) tells; nothing else is changed."""
    if _MARKERS.search(text) is None:
        return
    for line in text.split("\n"):
        if "OOMKilled" in line:
            tally.explained.add("oom-killed", _OOM, line, record.timestamp)
