"""What the rehearsal found, as data: one `Finding` per fact a user acts on.

Every reader of the deployment (the YAML, the layout, the environment, the model files) reports in the
same shape, so that ``check`` can print them together, count the errors and choose the exit code, and
``--json`` can hand them to a script. Warnings never change the exit code; an error does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Finding:
    """One thing the rehearsal learnt: how bad (``level``), about what (``topic``), and what to do.

    ``topic`` is one of ``yaml``, ``layout``, ``model``, ``environment``, ``settings``, ``probe``,
    ``memory``, ``fidelity`` (where the local rehearsal differs from the container). ``message`` is one
    or two sentences in plain words that say what is wrong and what to do; ``fix`` is the exact line to
    add or change when there is one (e.g. ``scikit-learn==1.7.0`` for the conda file's pip list).
    """

    level: Level
    topic: str
    message: str
    fix: str | None = None
    #: A pip distribution name this finding is about (a missing package), for scripts reading --json.
    package: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def errors(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.level == "error"]
