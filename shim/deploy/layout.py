"""Lay the deployment out in a temporary folder the way Azure ML mounts it in the container.

The rules, from Microsoft's own sources (cited where they are applied):
- The code folder keeps its name under ``/var/azureml-app``; ``AML_APP_ROOT`` is the folder that holds the
  scoring script (also the working directory) and ``AZUREML_ENTRY_SCRIPT`` is the script's file name.
  Seen in a managed deployment's own settings as the service reports them (``AML_APP_ROOT:
  /var/azureml-app/onlinescoring``, ``AZUREML_ENTRY_SCRIPT: score.py``), and in azure-ai-ml's local
  endpoints, which copy the service (``_local_endpoints/azureml_image_context.py``: "Set the directory
  containing scoring script as AML_APP_ROOT/working directory").
- The model goes under ``/var/azureml-app/azureml-models/<name>/<version>`` and ``AZUREML_MODEL_DIR`` points
  at that version folder. What is registered keeps its last path component: ``path: ../model/`` puts the
  folder ``model`` there (``AZUREML_MODEL_DIR/model/...``), ``path: ../model/m.pkl`` only the file
  (``AZUREML_MODEL_DIR/m.pkl``). https://learn.microsoft.com/azure/machine-learning/concept-online-deployment-model-specification
- A local model without a name is registered anonymously: its name is the SHA-256 of azure-ai-ml's
  content hash of the file or folder, its version ``1`` (azure-ai-ml ``entities/_assets/_artifacts/model.py``
  and ``_utils/_asset_utils.py:get_object_hash``). A name without a version gets the next version of that
  name when it is registered: ``1`` for a new name, unknown offline.

Code is copied (it is small, and the script's ``__file__`` must be inside the layout); model files are hard
links where the file system allows and symbolic links otherwise, so a 10 GB model costs nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding
from .spec import Deployment, LocalModel, RegisteredModel
from .uploads import Excluded, excluded_by, ignore_file, left_out_finding

CONTAINER_APP_ROOT = "/var/azureml-app"
#: Azure ML's content hash reads every byte; past this size the rehearsal does not (the name is cosmetic).
HASH_LIMIT_BYTES = 1 << 30
#: A code folder is uploaded as a snapshot; one this large is a data folder that slipped in.
CODE_WARN_BYTES = 100 << 20
_NOT_CODE = shutil.ignore_patterns(".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv")


class LayoutError(Exception):
    """The layout cannot be made (e.g. a registered model without ``--model-path``): the message says what to do."""


@dataclass(frozen=True)
class ModelPlace:
    """Where the model lands: ``AZUREML_MODEL_DIR`` and the name and version that make its path."""

    name: str
    version: str
    model_dir: Path
    #: The registered file or folder inside ``model_dir`` (``model`` or ``m.pkl``).
    registered: Path
    source: Path


@dataclass
class Layout:
    """The folder that stands for ``/var/azureml-app`` and the environment the server is started with."""

    root: Path
    app_root: Path
    code: Path
    entry_script: Path
    model: ModelPlace | None
    environment: dict[str, str]
    findings: list[Finding] = field(default_factory=list)

    def in_container(self, path: Path) -> str:
        """``path`` as the container names it (``/var/azureml-app/onlinescoring/score.py``)."""
        return f"{CONTAINER_APP_ROOT}/{path.relative_to(self.root).as_posix()}".rstrip("/")


def lay_out(
    deployment: Deployment, root: Path, *, model_path: Path | None = None, anonymous_name: str | None = None
) -> Layout:
    """Copy the code and link the model into ``root`` (which stands for ``/var/azureml-app``).

    ``anonymous_name``: a model without a name as azure-ai-ml named it, when it was asked (else computed here).
    """
    findings: list[Finding] = []
    code = root / deployment.code.name
    excluded, found = excluded_by(deployment.code, deployment.code.name)
    left_out: list[str] = []
    shutil.copytree(deployment.code, code, ignore=_not_uploaded(deployment.code, excluded, left_out), symlinks=True)
    if left_out:
        findings.append(left_out_finding(code.name, _ignore_name(deployment.code), left_out))
    findings += found + _code_size(deployment.code)
    entry = code / deployment.scoring_script
    place = _place_model(deployment, root, model_path, findings, anonymous_name)
    environment = {"AML_APP_ROOT": str(entry.parent), "AZUREML_ENTRY_SCRIPT": entry.name}
    if place is not None:
        environment["AZUREML_MODEL_DIR"] = str(place.model_dir)
    return Layout(root, entry.parent, code, entry, place, environment, findings)


def _not_uploaded(top: Path, excluded: Excluded | None, left_out: list[str]) -> Callable[[str, list[str]], set[str]]:
    """copytree's filter: what is never code (``.git``, caches), and what the ignore file leaves out."""

    def ignored(folder: str, names: list[str]) -> set[str]:
        skipped = set(_NOT_CODE(folder, names))
        if excluded is not None:
            for name in names:
                path = Path(folder, name)
                if name not in skipped and excluded(path):
                    skipped.add(name)
                    left_out.append(path.relative_to(top).as_posix())
        return skipped

    return ignored


def _ignore_name(folder: Path) -> str:
    found = ignore_file(folder)
    return found.name if found is not None else ".amlignore"


def _code_size(code: Path) -> list[Finding]:
    total = 0
    for folder, dirs, files in os.walk(code):
        dirs[:] = [name for name in dirs if name not in {".git", "__pycache__", ".venv", "venv"}]
        total += sum(_size(Path(folder, name)) for name in files)
        if total > CODE_WARN_BYTES:
            return [
                Finding(
                    "warning",
                    "layout",
                    f"the code folder {code} holds more than {CODE_WARN_BYTES >> 20} MB: Azure ML uploads all of it "
                    "with every deployment. Keep data and models out of it (the model belongs in 'model').",
                )
            ]
    return []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _place_model(
    deployment: Deployment, root: Path, model_path: Path | None, findings: list[Finding], anonymous: str | None
) -> ModelPlace | None:
    model = deployment.model
    if model is None:
        if model_path is not None:
            findings.append(Finding("warning", "model", "--model-path is ignored: the deployment has no model."))
        return None
    if isinstance(model, RegisteredModel):
        if model_path is None:
            raise LayoutError(_registered_hint(model, deployment))
        source = model_path.resolve()
        name, version = model.name, model.version or "1"
        if model.version is None:
            findings.append(_unknown_version(model.name, model.reference))
    else:
        source = model_path.resolve() if model_path is not None else model.path
        name, version = _local_name(model, source, findings, anonymous if model_path is None else None)
    if not source.exists():
        raise LayoutError(f"--model-path {model_path}: no such file or folder.")
    model_dir = root / "azureml-models" / name / version
    model_dir.mkdir(parents=True)
    registered = model_dir / source.name
    excluded, found = excluded_by(source, source.name)
    findings += found
    left_out = _link_tree(source, registered, excluded)
    if left_out:
        findings.append(left_out_finding(source.name, _ignore_name(source), left_out))
    return ModelPlace(name, version, model_dir, registered, source)


def _registered_hint(model: RegisteredModel, deployment: Deployment) -> str:
    version = model.version or "latest"
    return (
        f"{deployment.path}: 'model: {model.reference}' is a registered model ({model.name}, version {version}) and "
        "has no local copy. Download it and pass it: az ml model download --name "
        f"{model.name} --version {model.version or '<N>'} --download-path ./downloaded, then "
        f"--model-path ./downloaded/{model.name}/<the folder or file it was registered from>."
    )


def _unknown_version(name: str, reference: str) -> Finding:
    return Finding(
        "note",
        "model",
        f"'model: {reference}' names no version: the rehearsal uses azureml-models/{name}/1; in Azure ML the "
        "folder is the version the label resolves to. Read the model through AZUREML_MODEL_DIR, never by version.",
    )


def _local_name(model: LocalModel, source: Path, findings: list[Finding], anonymous: str | None) -> tuple[str, str]:
    if model.name:
        if model.version is None:
            findings.append(
                Finding(
                    "note",
                    "model",
                    f"model '{model.name}' has no version: az ml registers it as the next version of that name "
                    "(1 for a new name), which the rehearsal assumes.",
                )
            )
        return model.name, model.version or "1"
    return anonymous or anonymous_model_name(source, findings), "1"


def anonymous_model_name(path: Path, findings: list[Finding] | None = None) -> str:
    """The name Azure ML gives a model without one: SHA-256 of azure-ai-ml's ``get_object_hash`` of it.

    Exact when no ``.amlignore``/``.gitignore`` excludes files from the upload (then azure-ai-ml's own
    loader, when installed, gives the name instead). Past `HASH_LIMIT_BYTES` the bytes are not read.
    """
    size = _tree_size(path)
    if size > HASH_LIMIT_BYTES:
        if findings is not None:
            findings.append(
                Finding(
                    "note",
                    "model",
                    f"the model is anonymous (no name): Azure ML names it by the SHA-256 of its {size >> 20} MB, "
                    "which the rehearsal does not compute; it uses 'anonymous-model'. Read it via AZUREML_MODEL_DIR.",
                )
            )
        return "anonymous-model"
    digest = hashlib.sha256(b"Initialize for october 2021 AML CLI version")
    if path.is_dir():
        _hash_folder(path, digest)
    else:
        _hash_file(path, digest)
    return hashlib.sha256(digest.hexdigest().encode()).hexdigest()


def _hash_folder(folder: Path, digest: hashlib._Hash) -> None:
    for child in sorted(folder.iterdir(), key=lambda entry: str(entry).lower()):
        digest.update(child.name.encode())
        target = child.resolve() if child.is_symlink() else child
        if target.is_file():
            _hash_file(target, digest)
        elif target.is_dir():
            _hash_folder(target, digest)


def _hash_file(path: Path, digest: hashlib._Hash) -> None:
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)


def _tree_size(path: Path) -> int:
    if path.is_file():
        return _size(path)
    total = 0
    for folder, _, files in os.walk(path):
        total += sum(_size(Path(folder, name)) for name in files)
        if total > HASH_LIMIT_BYTES:
            break
    return total


def _link_tree(source: Path, target: Path, excluded: Excluded | None = None) -> list[str]:
    """Hard links (or symbolic links across file systems) to every uploaded file: the model is never copied.

    Returns what the ignore file left out (paths relative to ``source``).
    """
    if source.is_file():
        _link(source, target)
        return []
    left_out: list[str] = []
    for folder, dirs, files in os.walk(source):
        if excluded is not None:
            left_out += [
                Path(folder, name).relative_to(source).as_posix() + "/" for name in dirs if excluded(Path(folder, name))
            ]
            dirs[:] = [name for name in dirs if not excluded(Path(folder, name))]
        dirs.sort()
        here = target / Path(folder).relative_to(source)
        here.mkdir(parents=True, exist_ok=True)
        for name in files:
            if excluded is not None and excluded(Path(folder, name)):
                left_out.append(Path(folder, name).relative_to(source).as_posix())
                continue
            _link(Path(folder, name), here / name)
    return left_out


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        target.symlink_to(source.resolve())
