"""The ecosystem's known breakages, named from the text of a failure: its type, its message, its frames' files.

What a pasted traceback gives is enough to tell many failures apart: ``No module named 'sklearn.ensemble.forest'``
while unpickling is a model saved with another scikit-learn, ``numpy.dtype size changed`` a package built against
another numpy, ``cannot import name 'Markup' from 'jinja2'`` an old Flask beside jinja2 3.1. `explain` returns
the cause and the fix in plain words (a `Known`), or None. ``score-shim logs`` applies it to every failure it
reads; the in-process diagnosis (`shim.models.diagnosis`) uses it where the live exception and the file system
tell nothing more. Text only: nothing is imported, nothing is read from disk, and it never raises.

The families live beside this module, one a module: ``packages`` (missing modules, removed names, pip names),
``binary`` (numpy and protobuf builds, pickles), ``model_paths`` (Model.get_model_path, the azureml-models layout,
None paths), ``mlflow_layout``; ``bare`` reads a message pasted without its type, and ``known`` holds what they
share. This module asks them in order (`explain`) and keeps the names its users import.

Sources, each checked in public issue threads of Azure ML users: jinja2 3.1 removed ``Markup`` and ``escape``
(MicrosoftDocs/azure-docs#90567, Azure/feast-azure#57); itsdangerous 2.1 removed ``json``
(Azure/azureml-examples#977, #981); Werkzeug 2.1 removed ``BaseResponse`` and 3.0 ``url_quote``
(Azure/azureml-examples#2805); protobuf 4 refuses old generated code (Azure/azureml-examples#2184); numpy 2
breaks packages built for numpy 1.x (Azure/azureml-examples#3415, #3500); scikit-learn renamed its modules
(Azure/MachineLearningNotebooks#1066); ``Model.get_model_path`` looks only in its cache
(MicrosoftDocs/azure-docs#44559); a registered folder keeps its name under the version folder
(Azure/azureml-examples#1068).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .bare import bare_failure
from .binary import cant_get_attribute, class_not_found, numpy_binary, pickle_bytes, protobuf_version
from .known import CONDA_PIP, GET_MODEL_PATH_LOOKS, REGISTERED_FOLDER, Known, in_loader, package_of, short_type
from .mlflow_layout import MLFLOW_FIX, mlflow_layout
from .model_paths import missing_model_file, model_not_in_cache, none_path, workspace_model
from .packages import NAMESPACES, another_version, cannot_import, missing_module, missing_package

__all__ = [
    "CONDA_PIP",
    "GET_MODEL_PATH_LOOKS",
    "MLFLOW_FIX",
    "NAMESPACES",
    "REGISTERED_FOLDER",
    "Known",
    "another_version",
    "bare_failure",
    "cant_get_attribute",
    "explain",
    "in_loader",
    "may_explain",
    "missing_package",
    "package_of",
    "short_type",
]


def explain(kind: str | None, message: str | None, files: Sequence[str] = ()) -> Known | None:
    """The known failure an exception's type, message and frames' files tell; None when it is not one."""
    try:
        if not may_explain(kind, message):
            return None
        return _explain(short_type(kind or ""), str(message or ""), [f for f in files if isinstance(f, str)])
    except Exception:
        return None


#: Words that every known failure's message holds one of: anything else is told apart with one search.
_TRIGGERS = re.compile(
    r"numpy|NumPy|_ARRAY_API|Descriptors cannot|cannot import name|No module named|Can't get attribute|invalid load "
    r"key|Ran out of input|unsupported pickle protocol|not found|No such file or directory|MLmodel|No such artifact"
    r"|NoneType|Load model from|SavedModel file does not exist"
)


def may_explain(kind: str | None, message: str | None) -> bool:
    """Whether `explain` could know the failure: a quick look, before reading a traceback's frames."""
    return short_type(kind or "") in ("EOFError", "ModelNotFoundException") or bool(_TRIGGERS.search(message or ""))


def _explain(kind: str, message: str, files: list[str]) -> Known | None:
    """The first family's answer, in `_RULES`' order: the more particular causes are asked first."""
    if kind == "ModelPathError":  # the shim's own get_model_path: its message is the explanation
        return None
    for rule in _RULES:
        found = rule(kind, message, files)
        if found is not None:
            return found
    return None


_RULES = (
    numpy_binary,
    protobuf_version,
    cannot_import,
    class_not_found,
    missing_module,
    pickle_bytes,
    mlflow_layout,
    model_not_in_cache,
    workspace_model,
    missing_model_file,
    none_path,
)
