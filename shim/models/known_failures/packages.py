"""Packages and their versions: a module that is missing, a name a newer release removed, and the pip name
to add or pin (the import name is not always the distribution's: ``PIL`` is pillow, ``sklearn`` scikit-learn).

The same words serve a failed import in the script and a pickled model that names a module of another release.
"""

from __future__ import annotations

import re
from typing import Any

from ..pip_names import normalise, pip_name
from .known import CONDA_PIP, Known, base_name, in_loader, package_of

#: Namespace packages: a dotted name under them is a distribution of its own, not a part of an installed one.
NAMESPACES = ("azure", "google", "azureml")

#: ``cannot import name X from Y`` where Y removed X and an older package still imports it: what happened, the
#: pin that keeps it, and what code of one's own imports instead.
_REMOVED_NAMES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("Markup", "jinja2"): ("jinja2 3.1 removed Markup", "pin jinja2<3.1", "from markupsafe import Markup"),
    ("escape", "jinja2"): ("jinja2 3.1 removed escape", "pin jinja2<3.1", "from markupsafe import escape"),
    ("json", "itsdangerous"): ("itsdangerous 2.1 removed json", "pin itsdangerous==2.0.1", "import json"),
    ("soft_unicode", "markupsafe"): (
        "markupsafe 2.1 removed soft_unicode",
        "pin markupsafe==2.0.1",
        "from markupsafe import soft_str",
    ),
    ("BaseResponse", "werkzeug.wrappers"): (
        "Werkzeug 2.1 removed BaseResponse",
        "pin werkzeug==2.0.3",
        "from werkzeug.wrappers import Response",
    ),
    ("url_quote", "werkzeug.urls"): (
        "Werkzeug 3 removed url_quote",
        "pin werkzeug<3",
        "from urllib.parse import quote",
    ),
    ("joblib", "sklearn.externals"): (
        "scikit-learn 0.23 removed sklearn.externals.joblib",
        "pin scikit-learn<0.23",
        "import joblib (and add joblib to the conda file)",
    ),
}
#: Who imports the removed names when one's own code does not: Flask 1.x (jinja2 2.x under it), Flask 2.2.
_OLD_IMPORTERS = {
    "jinja2": "Flask 1.x",
    "itsdangerous": "Flask 1.x",
    "markupsafe": "jinja2 2.x (under Flask 1.x)",
    "werkzeug": "older Flask (1.x for BaseResponse, 2.2 and older for url_quote)",
}
_OLD_FLASK = (
    "; old azureml-defaults pin Flask 1.x, newer ones do not: move to a recent azureml-defaults or "
    "azureml-inference-server-http, or upgrade Flask"
)
_CANNOT_IMPORT_RE = re.compile(r"cannot import name '([\w.]+)' from '([\w.]+)'(?: \((.*)\))?")


def cannot_import(kind: str, message: str, files: list[str]) -> Known | None:
    """``cannot import name X from Y``: a name a newer release of Y removed, or another version's."""
    match = _CANNOT_IMPORT_RE.search(message)
    if match is None:
        return None
    name, module, where = match.group(1), match.group(2), match.group(3) or ""
    top = module.partition(".")[0]
    real = [f for f in files if not f.startswith("<")]  # not <frozen importlib._bootstrap>
    importer = package_of(real[-1]) if real else None  # the innermost frame ran the import
    own = bool(real) and importer is None
    facts: dict[str, Any] = {"name": name, "module": module, "package": pip_name(top), "own_import": own}
    removed = _REMOVED_NAMES.get((name, module))
    if removed is not None:
        what, pin, instead = removed
        if own:
            text = f"{what}, and the script imports it: use `{instead}` instead, or {pin} in the conda file"
        else:
            who = pip_name(importer) if importer else _OLD_IMPORTERS.get(top, "an older library")
            text = f"{what}, which {who} imports: {pin} in the conda file"
            text += _OLD_FLASK if top in _OLD_IMPORTERS else f", or upgrade {who}"
            if not real:
                text += f" (if your own code imports it: `{instead}`)"
        return Known("removed_name", text, facts)
    if package_of(where) is None:  # the user's own module, or nowhere known: not a library's version
        return None
    who = pip_name(importer) if importer and importer != top else "the code"
    facts["imported_by"] = pip_name(importer) if importer and importer != top else None
    return Known(
        "removed_name",
        f"the installed {pip_name(top)} has no {name}{f' in {module}' if module != top else ''}: {who} was written "
        f"for another version of {pip_name(top)}; pin the version it needs in the conda file",
        facts,
    )


#: Modules of older library versions that pickled models still name, with what happened to them.
_OLD_MODULES: tuple[tuple[str, str, str], ...] = (
    # numpy 2 renamed numpy.core to numpy._core: its pickles name numpy._core, which numpy 1.x lacks.
    ("numpy._core", "numpy", "the model was pickled with numpy 2 and numpy 1.x is installed"),
    ("sklearn.externals.joblib", "scikit-learn", "it was saved through sklearn.externals.joblib, which 0.23 removed"),
)
_SKLEARN_PUBLIC_RE = re.compile(r"sklearn\.\w+\.[a-z]\w*$")


def missing_module(kind: str, message: str, files: list[str]) -> Known | None:
    """``No module named X``: a package to add, or an installed one of another version."""
    match = re.search(r"No module named '([\w.]+)'", message)
    if match is None or kind not in ("", "ModuleNotFoundError", "ImportError"):
        return None
    module = match.group(1)
    if module == "main" and any(base_name(f) == "aml_blueprint.py" for f in files):
        return Known(
            "old_server_entry",
            "the old inference server (/var/azureml-server) imports the entry script under the name main, and found "
            "none: the image has no entry script where the deployment said (entry_script, source_directory); "
            "it is not a package to install",
            {"module": module},
        )
    top = module.partition(".")[0]
    unpickling = in_loader(files)
    if top.startswith("_"):  # a library's internal module, not a distribution
        if not unpickling:
            return None
        return Known(
            "library_version",
            f"the pickled model names the module {module}, which no installed package provides: it was saved with "
            "other library versions than the ones installed; pin them as they were when it was saved",
            {"module": module},
        )
    if "." not in module or top in NAMESPACES:
        return missing_package(module, unpickling=unpickling)
    # A dotted name: Python names the first part that is missing, so its package is there, in another version.
    return another_version(module, unpickling=unpickling)


def missing_package(module: str, *, who: str | None = None, unpickling: bool = False) -> Known:
    """``import PIL`` in an environment without pillow: the pip name to add to the conda file."""
    package = pip_name(module)
    top = module.partition(".")[0]
    if who is None:
        who = f"the pickled model needs {module}" if unpickling else f"the script needs {module}"
    text = f"{who}, which this environment does not have: add {package} to {CONDA_PIP}"
    if normalise(top) != package:
        text += f"; the import name is {top}, the package is {package}"
    return Known("module_not_found", text, {"module": module, "package": package})


def another_version(module: str, *, unpickling: bool = False) -> Known:
    """A package that is installed but lacks a module: the code, or the pickled model, is of another version."""
    top = module.partition(".")[0]
    package = pip_name(top)
    facts: dict[str, Any] = {"module": module, "package": package}
    for prefix, name, what in _OLD_MODULES:
        if module == prefix or module.startswith(prefix + "."):
            facts["package"] = name
            return Known(
                "library_version",
                f"{name} has no module {module}: {what}; pin the version the model was saved with in the conda "
                "file, or re-save the model with the installed one",
                facts,
            )
    old = (
        f" ({module} is a module name of scikit-learn 0.21 and older; 0.24 removed it)"
        if top == "sklearn" and _SKLEARN_PUBLIC_RE.match(module)
        else ""
    )
    if unpickling:
        text = (
            f"{package} is installed but has no module {module}: the model was saved with another version of "
            f"{package}; pin the version it was saved with in the conda file (or re-save the model with this one)"
        )
        return Known("library_version", text + old, facts)
    return Known(
        "module_not_found",
        f"{top} is installed but has no module {module}: the code (or the model) was written for another version "
        f"of {package}; pin the version it was written for in the conda file" + old,
        facts,
    )
