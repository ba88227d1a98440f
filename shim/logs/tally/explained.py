"""Failures the platform told (Kubernetes, the Azure CLI, the image build, old images' crash lines), explained.

Each kind is counted once per occurrence with the first line that told it; what it means (cause, fix, and the
section of Azure ML's troubleshooting guide it belongs to) comes from the meaning module that recognised it,
so that this part knows no log format and no message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..bounds import MAX_GROUPS, MAX_SAMPLES

#: Azure ML's troubleshooting guide for online endpoints; a finding names its section (an anchor here).
GUIDE = "https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints"


@dataclass
class Explanation:
    """What a kind of failure means: a title, its cause and fix in plain words, and the guide's section."""

    title: str
    cause: str
    fix: str
    guide: str  # the section's anchor in `GUIDE` ("#error-crashloopbackoff"), or a full address


@dataclass
class Finding:
    """One kind of failure: what it means, how often it was told, and the lines that told it."""

    kind: str
    explanation: Explanation
    count: int = 0
    evidence: list[str] = field(default_factory=list)  # the first lines that told it, each cut to 300 characters
    details: dict[str, str] = field(default_factory=dict)  # what the log said about it (a memory limit, a package)
    first: str | None = None

    def as_dict(self) -> dict[str, Any]:
        guide = self.explanation.guide
        return {
            "kind": self.kind,
            "title": self.explanation.title,
            "count": self.count,
            "cause": self.explanation.cause,
            "fix": self.explanation.fix,
            "guide": guide if guide.startswith("http") else GUIDE + guide,
            "details": self.details,
            "evidence": self.evidence,
            "first": self.first,
        }


class Findings:
    """The findings by kind, in the order they were first told (bounded: `MAX_GROUPS` kinds, a few lines each)."""

    def __init__(self) -> None:
        self.kinds: dict[str, Finding] = {}
        self.dropped = 0

    def add(
        self,
        kind: str,
        explanation: Explanation,
        evidence: str,
        timestamp: Any = None,
        details: dict[str, str] | None = None,
    ) -> Finding | None:
        """Count one occurrence of ``kind``; ``details`` fill in what earlier occurrences did not say."""
        finding = self.kinds.get(kind)
        if finding is None:
            if len(self.kinds) >= MAX_GROUPS:
                self.dropped += 1
                return None
            finding = self.kinds[kind] = Finding(kind, explanation, first=str(timestamp) if timestamp else None)
        finding.count += 1
        evidence = evidence.strip()[:300]
        if evidence and len(finding.evidence) < MAX_SAMPLES // 3 and evidence not in finding.evidence:
            finding.evidence.append(evidence)
        for key, value in (details or {}).items():
            if len(finding.details) < MAX_SAMPLES:
                finding.details.setdefault(key, value[:200])
        return finding

    def as_list(self) -> list[dict[str, Any]]:
        return [finding.as_dict() for finding in self.kinds.values()]
