"""What the platform says about a deployment, in the text users paste beside (or instead of) container output.

``kubectl describe pod`` and Kubernetes events, ``az ml online-deployment get-logs`` and the Azure CLI's
errors, image build logs: each known failure is noted in `shim.logs.tally.explained` with its cause, its fix
and the section of Azure ML's troubleshooting guide. One module per kind of text says what its lines mean:
`pod_state` (a pod's containers), `events` and `scheduling` (Kubernetes' and Azure ML's events), `azure_errors`
(the error codes of the CLI and the SDKs), `build_logs` (conda and pip); what a line of any of them says only by
a word (``OOMKilled``, ``CrashLoopBackOff``, ``died with <Signals.SIGKILL: 9>``) is read here last.

Only bare records get here (a line no reader knew, with the indented lines that followed it), and each is
looked at with one regular expression first (`_MARKERS`, made of the modules' markers): most records are
nothing of the kind, and cost that one search. A record that is (a ``kubectl describe`` section of 400 lines at
most, head and tail, see `shim.logs.record`) is read line by line, and what it tells is counted once per kind
(`shim.logs.meaning.notes`).
"""

from __future__ import annotations

import re

from ..record import Record
from ..tally.totals import Tally
from .azure_errors import MARKERS as AZURE_MARKERS
from .azure_errors import entry_script_errors, read_azure_errors
from .build_logs import MARKERS as BUILD_MARKERS
from .build_logs import read_build_log
from .events import MARKERS as EVENT_MARKERS
from .events import read_events
from .exceptions import diagnose
from .exit_codes import OOM_KILLED, explain_signal
from .notes import Notes
from .pod_state import CRASH_LOOP, IMAGE_PULL, read_pod_state
from .pod_state import MARKERS as POD_MARKERS
from .scheduling import MARKERS as SCHEDULING_MARKERS

_WORDS = ("OOMKill", "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "<Signals.SIG")


def _one_search(literals: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for all the literals, grouped by their first character.

    Each literal starts with a capital letter (or ``<``), so that the search skips the other characters of a
    record fast; grouping by the first character keeps the branches tried at each capital few. A 1.7 KB
    traceback costs about 9 us (an alternation of the plain literals, 13 us; with ``\\b`` or ``\\d`` in front of
    branches, over 100 us).
    """
    groups: dict[str, list[str]] = {}
    for literal in sorted(set(literals), key=len, reverse=True):
        groups.setdefault(literal[0], []).append(re.escape(literal[1:]))
    return re.compile("|".join(f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in groups.items()))


_MARKERS = _one_search((*POD_MARKERS, *EVENT_MARKERS, *SCHEDULING_MARKERS, *AZURE_MARKERS, *BUILD_MARKERS, *_WORDS))
_SIGNAL_RE = re.compile(r"died with <Signals\.(SIG\w+): (\d+)>")
_WORD_KINDS = (
    ("OOMKilled", "oom-killed", OOM_KILLED),
    ("CrashLoopBackOff", "crash-loop", CRASH_LOOP),
    ("ImagePullBackOff", "image-pull", IMAGE_PULL),
    ("ErrImagePull", "image-pull", IMAGE_PULL),
)


def on_platform_text(tally: Tally, record: Record, text: str) -> None:
    """Note the platform's failures that ``text`` (a bare record's lines) tells; nothing else is changed."""
    if _MARKERS.search(text) is None:
        return
    notes = Notes(tally, record.timestamp)
    lines = text.split("\n")
    read_pod_state(notes, lines)
    read_azure_errors(notes, lines)
    read_events(notes, lines)
    read_build_log(notes, lines)
    _read_words(notes, lines)
    notes.flush()
    for line in entry_script_errors(lines):  # score.py's own error, which the shared diagnosis may know
        kind, _, message = line.partition(": ")
        error = {"type": kind, "message": message}
        tally.failures.add(None, error, None, record.timestamp, diagnose(error))


def _read_words(notes: Notes, lines: list[str]) -> None:
    """What a line says by a word only (``kubectl get pods``, a status in an error): kinds not told otherwise."""
    for line in lines:
        for word, kind, explanation in _WORD_KINDS:
            if word in line and not notes.has(kind) and re.search(rf"\b{word}\b", line):
                notes.add(kind, explanation, line)
        killed = _SIGNAL_RE.search(line)
        if killed:
            number = int(killed.group(2))
            notes.add(f"signal-{number}", explain_signal(number), line, {"signal": killed.group(1)})
