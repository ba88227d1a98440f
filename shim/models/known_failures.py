"""The ecosystem's known breakages, named from the text of a failure: its type, its message, its frames' files.

What a pasted traceback gives is enough to tell many failures apart: ``No module named 'sklearn.ensemble.forest'``
while unpickling is a model saved with another scikit-learn, ``numpy.dtype size changed`` a package built against
another numpy, ``cannot import name 'Markup' from 'jinja2'`` an old Flask beside jinja2 3.1. `explain` returns
the cause and the fix in plain words (a `Known`), or None. ``score-shim logs`` applies it to every failure it
reads; the in-process diagnosis (`shim.models.diagnosis`) uses it where the live exception and the file system
tell nothing more. Text only: nothing is imported, nothing is read from disk, and it never raises.

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
from typing import Any, NamedTuple

from .pip_names import normalise, pip_name

#: What ``Model.get_model_path`` does, in the words both diagnoses use.
GET_MODEL_PATH_LOOKS = "it looks only in $AML_APP_ROOT/azureml-models and ./<name>"
REGISTERED_FOLDER = "a registered folder keeps its folder name under AZUREML_MODEL_DIR"
CONDA_PIP = "the environment's conda file (dependencies → pip)"
#: Namespace packages: a dotted name under them is a distribution of its own, not a part of an installed one.
NAMESPACES = ("azure", "google", "azureml")


class Known(NamedTuple):
    """A known failure: its kind, the cause and the fix in plain words, and what was read, as data."""

    kind: str
    text: str
    facts: dict[str, Any]


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


def short_type(kind: str) -> str:
    """``azureml.exceptions._azureml_exception.ModelNotFoundException`` → ``ModelNotFoundException``."""
    return kind.rpartition(".")[2].strip().rstrip(":")


# -- bare lines: a failure's message pasted without the exception's type -------------------------------------

#: Messages that name a known failure on their own, with the exception that carries them.
_BARE = (
    (re.compile(r"Model (?:\S+ )?not found in cache\b"), "ModelNotFoundException"),
    (re.compile(r"No such artifact: '"), "MlflowException"),
    (re.compile(r'Could not find an "MLmodel" configuration file'), "MlflowException"),
    (re.compile(r"numpy\.dtype size changed, may indicate binary incompatibility"), "ValueError"),
    (re.compile(r"Descriptors cannot (?:not )?be created directly"), "TypeError"),
    (re.compile(r"\[Errno 2\] No such file or directory: '"), "FileNotFoundError"),
    (re.compile(r"NO_SUCHFILE : Load model from "), "onnxruntime.NoSuchFile"),  # onnxruntime's InferenceSession
    (re.compile(r"SavedModel file does not exist at: "), "OSError"),  # TensorFlow's load_model
)


_BARE_FIRST = frozenset("MNCnD[S")


def bare_failure(line: str) -> tuple[str, str] | None:
    """``(type, message)`` when a line without an exception type is a known failure's message."""
    text = line.strip()
    if text[:1] not in _BARE_FIRST:  # most lines: one look
        return None
    if text.startswith("Message: "):  # azureml-core's exceptions put the message on a line of its own
        text = text[len("Message: ") :]
    if len(text) > 2000:
        return None
    for pattern, kind in _BARE:
        if pattern.match(text):
            return kind, text
    return None


# -- the frames' files --------------------------------------------------------------------------------------

_PACKAGE_RE = re.compile(r"[/\\](?:site|dist)-packages[/\\]([A-Za-z_][\w]*)")
_LOADERS = ("pickle.py", "numpy_pickle.py", "numpy_pickle_utils.py", "_pickle.py", "cloudpickle.py")


def in_loader(files: Sequence[str]) -> bool:
    """Whether the frames were unpickling: the standard library's pickle, joblib's or cloudpickle's loaders."""
    return any(_base(f) in _LOADERS or "/joblib/" in f.replace("\\", "/") for f in files)


def package_of(path: str) -> str | None:
    """The import name of the installed package a file belongs to (``.../site-packages/pandas/x.py`` → pandas)."""
    match = _PACKAGE_RE.search(path)
    return match.group(1) if match else None


def _base(path: str) -> str:
    return path.replace("\\", "/").rpartition("/")[2]


def _innermost_package(files: Sequence[str], skip: tuple[str, ...] = ()) -> str | None:
    for path in reversed(files):
        package = package_of(path)
        if package is not None and package not in skip:
            return package
    return None


# -- the causes ---------------------------------------------------------------------------------------------


def _explain(kind: str, message: str, files: list[str]) -> Known | None:
    if kind == "ModelPathError":  # the shim's own get_model_path: its message is the explanation
        return None
    for rule in _RULES:
        found = rule(kind, message, files)
        if found is not None:
            return found
    return None


_NUMPY_RE = re.compile(
    r"numpy\.dtype size changed, may indicate binary incompatibility(?:\. Expected (\d+) from C header, got (\d+))?"
    r"|compiled using NumPy 1\.x cannot be run in\s+NumPy 2|numpy\.core\.multiarray failed to import"
    r"|_ARRAY_API not found"
)


def _numpy_binary(kind: str, message: str, files: list[str]) -> Known | None:
    match = _NUMPY_RE.search(message)
    if match is None:
        return None
    package = _innermost_package(files, skip=("numpy",))
    name = pip_name(package) if package else None
    built_for_1 = (match.group(1), match.group(2)) == ("96", "88") or "NumPy 1.x" in message
    who = name or "a compiled package"
    cause = (
        f"{who} was built for numpy 1.x and numpy 2 is installed"
        if built_for_1
        else f"{who} was built against another numpy than the one installed"
    )
    return Known(
        "numpy_binary",
        f"binary incompatibility: {cause} ({match.group(0)}): pin numpy<2 in the conda file, or install a "
        f"{name or 'package'} release built for the installed numpy (reinstall it, so that pip picks the matching "
        "wheel)",
        {"package": name, "numpy_2_installed": built_for_1 or None},
    )


def _protobuf(kind: str, message: str, files: list[str]) -> Known | None:
    if re.search(r"Descriptors cannot (?:not )?be created directly", message) is None:
        return None
    generated = next((f for f in reversed(files) if _base(f).endswith("_pb2.py")), None)
    package = package_of(generated) if generated else None
    if package:
        who = f"{pip_name(package)}'s generated protobuf code ({_base(generated or '')})"
    else:
        who = f"generated protobuf code ({_base(generated) if generated else 'a _pb2.py file'})"
    return Known(
        "protobuf_version",
        f"{who} is older than the installed protobuf (4 or newer refuses it): pin protobuf<4 (3.20.x) in the conda "
        "file, or set PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python in the deployment's environment_variables "
        "(pure Python, slower)"
        + (f", or upgrade {pip_name(package)}" if package else ", or regenerate it with protoc 3.19 or newer"),
        {"package": pip_name(package) if package else None, "generated_file": generated},
    )


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


def _cannot_import(kind: str, message: str, files: list[str]) -> Known | None:
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


def _missing_module(kind: str, message: str, files: list[str]) -> Known | None:
    match = re.search(r"No module named '([\w.]+)'", message)
    if match is None or kind not in ("", "ModuleNotFoundError", "ImportError"):
        return None
    module = match.group(1)
    if module == "main" and any(_base(f) == "aml_blueprint.py" for f in files):
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


_ATTRIBUTE_RE = re.compile(r"Can't get attribute '([^']+)' on <module '([^']+)'")


def _cant_get_attribute(kind: str, message: str, files: list[str]) -> Known | None:
    if "Can't get attribute" not in message:
        return None
    return cant_get_attribute(message)


def cant_get_attribute(message: str) -> Known:
    """``Can't get attribute 'Scaler' on <module '__main__'>``: a class the unpickler cannot find where it was."""
    found = _ATTRIBUTE_RE.search(message)
    name, where = (found.group(1), found.group(2)) if found else ("a class", "a module")
    main = where == "__main__" or where.endswith(".__main__")
    facts: dict[str, Any] = {"name": name, "module": where}
    if main:
        fix = (
            " (it was defined in the training script run as __main__): move the class into a module that both "
            "training and score.py import, or import it into score.py before loading"
        )
        return Known(
            "model_load", f"the pickle refers to {name} in module '__main__', which does not define it here{fix}", facts
        )
    package = pip_name(where.partition(".")[0]) if found else None
    facts["package"] = package
    return Known(
        "library_version" if package else "model_load",
        f"the pickle refers to {name} in module {where!r}, which does not define it here: the library version "
        f"differs from the one that saved the model; pin "
        + (f"{package} to the version the model was saved with in the conda file" if package else "it"),
        facts,
    )


def _pickle_bytes(kind: str, message: str, files: list[str]) -> Known | None:
    if "invalid load key" in message:
        lfs = "'v'" in message
        return Known(
            "model_load",
            "the model file is not a pickle ("
            + (
                "it starts with 'v': a Git LFS pointer file, not the model; fetch the real file with `git lfs pull` "
                "before registering it"
                if lfs
                else "the wrong file, or a truncated or text file"
            )
            + ")",
            {"git_lfs_pointer": lfs},
        )
    if (kind == "EOFError" and ("Ran out of input" in message or in_loader(files))) or (
        not kind and message.startswith("Ran out of input")
    ):
        return Known(
            "model_load", "the model file is empty or truncated (EOF while unpickling): re-register the model", {}
        )
    if "unsupported pickle protocol" in message:
        return Known(
            "model_load", "the model was pickled by a newer Python than this one: use the same Python version", {}
        )
    return None


_GET_MODEL_PATH_RE = re.compile(r"Model (\S+?)(?::(\S+))? not found in cache(?: at (\S+?) or in current working)?")


_WORKSPACE_MODEL_RE = re.compile(r"Model with name (\S+?),? version (\S+?) not found in provided workspace")


def _workspace_model(kind: str, message: str, files: list[str]) -> Known | None:
    """azureml-core's ``Model(ws, name, version)`` when the workspace has no such model: the deploying side."""
    match = _WORKSPACE_MODEL_RE.search(message)
    if match is None:
        return None
    name, version = match.groups()
    return Known(
        "registered_model_missing",
        f"the workspace has no model {name} version {version}: check the name and version (az ml model list "
        "--name NAME), and that the code is connected to the workspace the model was registered in",
        {"model_name": name, "version": version},
    )


def _get_model_path(kind: str, message: str, files: list[str]) -> Known | None:
    match = _GET_MODEL_PATH_RE.search(message)
    if match is None and kind in ("ModelNotFoundException", "WebserviceException"):
        match = re.search(r"Model (\S+?)(?::(\S+))? not found", message)
    if match is None and kind != "ModelNotFoundException":
        return None  # azureml-core's WebserviceException is about much else
    name = match.group(1) if match else None
    named = f"Model.get_model_path({name!r})" if name else "azureml-core's Model.get_model_path"
    return Known(
        "azureml_core_model_not_found",
        f"{named} found no model: {GET_MODEL_PATH_LOOKS}, by the registered model's name (not its file name), "
        "never in AZUREML_MODEL_DIR; a v2 deployment mounts the model at AZUREML_MODEL_DIR "
        "(/var/azureml-app/azureml-models/<name>/<version>): build the path with "
        f"os.path.join(os.environ['AZUREML_MODEL_DIR'], <the file>) ({REGISTERED_FOLDER})",
        {"model_name": name, "version": match.group(2) if match else None},
    )


#: A missing file's path, as the loaders say it: Python's OSError, onnxruntime's, TensorFlow's SavedModel loader.
_NO_SUCH_FILE_RE = re.compile(
    r"No such file or directory: '([^']+)'|Load model from (\S+?) failed|SavedModel file does not exist at: (\S+)"
)
_MODELS_RE = re.compile(r"(.*?/azureml-models)/([^/]+)(?:/([^/]+))?(?:/(.+))?$")


def _missing_model_file(kind: str, message: str, files: list[str]) -> Known | None:
    match = _NO_SUCH_FILE_RE.search(message)
    if match is None:
        return None
    path = next(group for group in match.groups() if group)
    facts: dict[str, Any] = {"path": path}
    layout = _MODELS_RE.match(path)
    if layout is None:
        if path.startswith(_APP_ROOT) and path.endswith(".py"):
            return _entry_script_missing(path, facts)
        if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path) or "://" in path:
            return None
        return Known(
            "relative_path",
            f"{path} is relative, so it was looked up in the working directory (in Azure ML's images, "
            "/var/azureml-app), which is not the script's folder; build it from AZUREML_MODEL_DIR or __file__",
            facts,
        )
    root, name, version, rest = layout.groups()
    facts.update(model_name=name, version=version)
    if version is not None and version.isdigit() and rest:
        model_dir = f"{root}/{name}/{version}"
        facts["azureml_model_dir"] = model_dir
        nested = "/" in rest
        return Known(
            "model_layout",
            f"{path} does not exist: AZUREML_MODEL_DIR is {model_dir} here, and {REGISTERED_FOLDER} "
            + (
                f"(the path goes through {rest.rpartition('/')[0]}/: is that the folder's registered name?)"
                if nested
                else f"(so the file is likely one folder down, at {model_dir}/<the registered folder>/{rest}; an "
                "MLflow model's folder is usually model/)"
            )
            + "; `score-shim check --model-dir` with the registered folder shows the layout",
            facts,
        )
    if version is not None and not version.isdigit():
        return Known(
            "model_layout",
            f"{path} does not exist: models are mounted at azureml-models/<name>/<version>/ and the path has no "
            f"version folder after {name}/; build it from AZUREML_MODEL_DIR, which names the version folder "
            f"({REGISTERED_FOLDER})",
            facts,
        )
    return Known(
        "model_layout",
        f"{path} does not exist: models are mounted at azureml-models/<name>/<version>/; build the path from "
        f"AZUREML_MODEL_DIR ({REGISTERED_FOLDER})",
        facts,
    )


_APP_ROOT = "/var/azureml-app/"


def _entry_script_missing(path: str, facts: dict[str, Any]) -> Known:
    """The server looks for the scoring script where the deployment says it is, under /var/azureml-app."""
    return Known(
        "entry_script_path",
        f"the server found no scoring script at {path}: Azure ML puts the deployment's code folder "
        "(code_configuration.code) under /var/azureml-app keeping its name, and scoring_script is relative to that "
        "folder; check both in the deployment YAML (score-shim check --deployment lays them out as Azure ML does)",
        facts,
    )


MLFLOW_FIX = (
    "a registered MLflow model (a folder) keeps its folder name under AZUREML_MODEL_DIR: pass "
    "os.path.join(os.environ['AZUREML_MODEL_DIR'], '<the folder that holds MLmodel>') to mlflow.pyfunc.load_model"
)
_MLMODEL_RE = re.compile(r'Could not find an "MLmodel" configuration file at "([^"]+)"')
_ARTIFACT_RE = re.compile(r"No such artifact: '([^']+)'")


def _mlflow_layout(kind: str, message: str, files: list[str]) -> Known | None:
    found = _MLMODEL_RE.search(message)
    if found is not None:
        folder = re.sub(r"[/\\]MLmodel$", "", found.group(1))
        return Known(
            "mlflow_layout",
            f"{folder} holds no MLmodel file, so it is not an MLflow model folder: {MLFLOW_FIX}",
            {"path": folder},
        )
    found = _ARTIFACT_RE.search(message)
    if found is not None and (kind in ("", "MlflowException") or "/mlflow/" in "".join(files)):
        return Known(
            "mlflow_layout",
            f"mlflow.pyfunc.load_model was given a path ending in '{found.group(1)}' that does not exist: "
            + MLFLOW_FIX,
            {"artifact": found.group(1)},
        )
    return None


_NONE_PATH_RE = re.compile(r"(?:str, bytes or os\.PathLike object|os\.PathLike or integer), not NoneType")


def _none_path(kind: str, message: str, files: list[str]) -> Known | None:
    if kind not in ("", "TypeError") or not _NONE_PATH_RE.search(message):
        return None
    return Known(
        "none_path",
        "a path was None: usually os.getenv('AZUREML_MODEL_DIR') (or another variable read for a path) returned "
        "None because it is not set: a deployment without a model, or a local run without --model-dir",
        {},
    )


_RULES = (
    _numpy_binary,
    _protobuf,
    _cannot_import,
    _cant_get_attribute,
    _missing_module,
    _pickle_bytes,
    _mlflow_layout,
    _get_model_path,
    _workspace_model,
    _missing_model_file,
    _none_path,
)
