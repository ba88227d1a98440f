"""What one bare record tells about the platform, gathered before it is counted in `shim.logs.tally.explained`.

Why a step between the recognisers and the tally: a record (a ``kubectl describe`` section, an error printed
with its JSON) often tells the same failure on several lines, and the platform's tools repeat themselves across
records (the Azure SDK prints an error's message twice, pip names a missing version on two lines). Here a kind
is counted once per record with the details all its lines gave, and a line that only repeats what an earlier
record told (``repeat``) adds its details to the finding already counted instead of counting it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..bounds import MAX_SAMPLES
from ..tally.explained import Explanation, Finding
from ..tally.totals import Tally

_MAX_VALUE = 200  # characters of one detail, as `Findings.add` keeps
_AZURE_REPEAT = "Message: "  # azure-core's HttpResponseError: "(Code) message", then "Code: ...", "Message: message"


@dataclass
class _Note:
    explanation: Explanation
    evidence: str
    timestamp: Any
    repeat: bool
    details: dict[str, str] = field(default_factory=dict)


class Notes:
    """The findings of one record, by kind, in the order told; `flush` counts them in the tally."""

    __slots__ = ("_pending", "_tally", "_timestamp")

    def __init__(self, tally: Tally, timestamp: Any) -> None:
        self._tally = tally
        self._timestamp = timestamp
        self._pending: dict[str, _Note] = {}

    def add(
        self,
        kind: str,
        explanation: Explanation,
        evidence: str,
        details: dict[str, str] | None = None,
        *,
        timestamp: Any = None,
        repeat: bool = False,
    ) -> None:
        """``kind``, told by the line ``evidence``; a kind this record told already only gets the new details.

        ``repeat``: the line repeats a failure an earlier line told (not counted again if already counted).
        """
        note = self._pending.get(kind)
        if note is None:
            evidence = " ".join(evidence.split())
            if evidence.startswith(_AZURE_REPEAT) and self._told(kind, evidence[len(_AZURE_REPEAT) :]):
                repeat, evidence = True, ""  # nothing the first line did not show
            note = self._pending[kind] = _Note(explanation, evidence, timestamp or self._timestamp, repeat)
        _merge(note.details, details or {})

    def has(self, kind: str) -> bool:
        return kind in self._pending

    def enrich(self, kind: str, details: dict[str, str]) -> bool:
        """Details for a kind told in this record, or in an earlier one; False when it was told nowhere yet."""
        note = self._pending.get(kind)
        if note is not None:
            _merge(note.details, details)
            return True
        finding = self._tally.explained.kinds.get(kind)
        if finding is None:
            return False
        _merge(finding.details, details)
        return True

    def flush(self) -> None:
        """Count each kind this record told (a repeat of a kind already counted adds its details only)."""
        findings = self._tally.explained
        for kind, note in self._pending.items():
            finding: Finding | None = findings.kinds.get(kind) if note.repeat else None
            if finding is None:
                finding = findings.add(kind, note.explanation, note.evidence, note.timestamp)
            elif note.evidence and note.evidence not in finding.evidence and len(finding.evidence) < MAX_SAMPLES // 3:
                finding.evidence.append(note.evidence[:300])
            if finding is not None:
                _merge(finding.details, note.details)
        self._pending.clear()

    def _told(self, kind: str, message: str) -> bool:
        finding = self._tally.explained.kinds.get(kind)
        head = message[:100]
        return finding is not None and any(head in line for line in finding.evidence)


def _merge(into: dict[str, str], details: dict[str, str]) -> None:
    """Details into ``into``: a new key while there is room, a new value of a known key appended to it."""
    for key, value in details.items():
        value = value.strip()
        if not value:
            continue
        known = into.get(key)
        if known is None:
            if len(into) < MAX_SAMPLES:
                into[key] = value[:_MAX_VALUE]
        elif value not in known.split(", ") and len(known) < _MAX_VALUE:
            into[key] = f"{known}, {value}"[:_MAX_VALUE]
