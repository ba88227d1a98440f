"""What the code and the model need from the environment, as data shared by their readers.

The scoring script's imports (read with ``ast``), the modules a pickled model references (read with
``pickletools``-style scanning, no code run) and an MLflow model's own requirements all become `Need`s;
``environment.compare`` checks each against the deployment's conda file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .findings import Finding


@dataclass(frozen=True)
class Need:
    """One module or distribution that something needs, and where that need was read.

    ``module`` is a dotted import name (``sklearn.ensemble._forest``, ``PIL.Image``) or None when the
    need names a distribution directly (an MLflow ``requirements.txt`` line). ``distribution`` is the pip
    name when the source says it (``scikit-learn`` for a pickle's ``_sklearn_version``, every
    requirements line). ``version`` is the exact version the artefact was saved with or pins, when known.
    ``where`` is what a person opens to see it: ``onlinescoring/score.py:3``, ``model/model.pkl``.
    """

    module: str | None
    where: str
    distribution: str | None = None
    version: str | None = None


@dataclass
class ModelNeeds:
    """What the model files need: their `Need`s, the Python they were saved with, and what was learnt."""

    needs: list[Need] = field(default_factory=list)
    #: The Python version an MLflow model records (``python_version`` in ``MLmodel``), when it does.
    python_version: str | None = None
    #: Facts about the files themselves (a Git LFS pointer, a truncated pickle, a file not scanned).
    findings: list[Finding] = field(default_factory=list)
