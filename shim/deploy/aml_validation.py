"""Validate the deployment YAML with azure-ai-ml's own loader, where the optional extra is installed.

``az ml online-deployment create`` reads the file with azure-ai-ml's ``load_online_deployment`` before it
sends anything: what that loader refuses never reaches Azure. Running the same loader offline gives its
verdict in about two seconds (1.5 s to import azure-ai-ml, milliseconds to load; a model folder is read
whole once, to hash it, at about 1 GB/s) and, when the model is uploaded from disk, the very name Azure ML
will register it under: an anonymous model is named by the SHA-256 of its files, version "1"
(azure-ai-ml ``entities/_assets/_artifacts/model.py``, ``get_object_hash``).

azure-ai-ml is optional (``score-shim[aml]``): it is imported inside the call, so that ``import shim`` and
a check without it stay fast, and its own warnings and log lines are kept off the user's terminal. Nothing
it raises escapes: an unexpected failure becomes a warning saying that validation could not run, and why.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .findings import Finding

UNKNOWN_FIELD = "Unknown field."
MISSING_FIELD = "Missing data for required field."
#: What the loader's failures are cut to: one line a person reads whole.
MESSAGE_LIMIT = 300


@dataclass
class AmlValidation:
    """azure-ai-ml's verdict on a deployment YAML, and the model name it would register.

    ``model_name`` and ``model_version`` are set when the YAML loads and its model is given inline (a
    local ``path``): the name written there, or for an anonymous model the hash azure-ai-ml computes, with
    version "1". ``kind`` is ``managed`` or ``kubernetes``, as the loader chose from the ``type:`` key
    (``managed`` when absent), or None when it could not tell. ``seconds`` is how long the import and the
    load took.
    """

    findings: list[Finding]
    model_name: str | None
    model_version: str | None
    kind: str | None
    seconds: float | None = None


def validate_with_azure_ai_ml(path: Path) -> AmlValidation | None:
    """Load ``path`` as ``az ml online-deployment create`` would; None when azure-ai-ml is not installed."""
    if not _installed():
        return None
    started = time.perf_counter()
    with _quiet():
        try:
            result = _load_and_judge(path)
        except Exception as error:  # azure-ai-ml's failures must not end the check
            result = AmlValidation([_could_not_run(error)], None, None, None)
    result.seconds = time.perf_counter() - started
    return result


def _installed() -> bool:
    """Whether azure-ai-ml is there, without importing it (``find_spec`` imports only ``azure.ai``)."""
    import importlib.util

    try:
        return importlib.util.find_spec("azure.ai.ml") is not None
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep azure-ai-ml's warnings, log records and prints off the terminal while it runs.

    Importing it warns (marshmallow deprecations) and loading logs; its ``_logger_utils`` may even add a
    handler bound to the real stderr, which redirecting ``sys.stderr`` would not catch, so logging is
    switched off altogether for the call and restored after.
    """
    previous = logging.root.manager.disable
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(previous)


def _load_and_judge(path: Path) -> AmlValidation:
    from azure.ai.ml import load_online_deployment
    from azure.ai.ml.exceptions import ValidationException

    try:
        deployment = load_online_deployment(source=path)
    except ValidationException as error:
        # The file cannot be read at all: missing, not YAML, not a mapping.
        return AmlValidation([_loader_refused("the file", str(error))], None, None, None)
    except Exception as error:
        messages = _normalized_messages(error)
        if messages is None:
            raise
        kind = _kind_from_message(str(error))
        return AmlValidation(_findings_from_messages(messages, _known_names(kind)), None, None, kind)
    return _loaded(deployment)


def _loaded(deployment: Any) -> AmlValidation:
    """The model's name and version, and the kind, of a deployment the loader accepted."""
    kind = str(getattr(deployment, "type", "") or "managed").lower()
    model = getattr(deployment, "model", None)
    name = getattr(model, "name", None) if model is not None and not isinstance(model, str) else None
    version = getattr(model, "version", None) if name is not None else None
    return AmlValidation(
        [],
        str(name) if name is not None else None,
        str(version) if version is not None else None,
        kind if kind in ("managed", "kubernetes") else None,
    )


def _normalized_messages(error: BaseException) -> Any:
    """The field-by-field messages of a marshmallow ``ValidationError``, or None for any other error.

    azure-ai-ml (``entities/_util.py``, ``load_from_dict``) re-raises the original error as a new one whose
    text embeds the JSON of ``normalized_messages()``, ``from`` the original: the cause is read first, the
    JSON in the text second.
    """
    normalize: Callable[[], Any] | None = getattr(error.__cause__, "normalized_messages", None)
    if normalize is not None:
        return normalize()
    normalize = getattr(error, "normalized_messages", None)
    if normalize is None:
        return None
    parsed = _json_in(str(error))
    return parsed if parsed is not None else normalize()


def _json_in(text: str) -> Any:
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(text, start)[0]
    except ValueError:
        return None


def _kind_from_message(text: str) -> str | None:
    match = re.search(r"(Managed|Kubernetes)OnlineDeploymentSchema", text)
    return match.group(1).lower() if match else None


def _findings_from_messages(messages: Any, known: Callable[[list[str]], list[str]]) -> list[Finding]:
    """One finding per key: an unknown key, a missing required one, or the loader's first objection."""
    leaves = list(_leaves(messages, []))
    findings: list[Finding] = []
    flagged: list[list[str]] = []
    for key, message in leaves:
        if message == UNKNOWN_FIELD:
            findings.append(_unknown_key(key, known(key[:-1])))
            flagged.append(key)
        elif message == MISSING_FIELD:
            findings.append(_missing_key(key))
            flagged.append(key)
    others: dict[str, list[str]] = {}
    for key, message in leaves:
        if message in (UNKNOWN_FIELD, MISSING_FIELD) or any(_under(other, key) for other in flagged):
            continue
        others.setdefault(".".join(key) or "the file", []).append(message)
    findings += [_loader_refused(key, _best(texts)) for key, texts in others.items()]
    return findings


def _leaves(messages: Any, key: list[str]) -> Iterator[tuple[list[str], str]]:
    """Every (key path, message) in marshmallow's nested messages.

    ``_schema`` holds a mapping's own errors; a list under a key is either its messages or, for a union
    field such as ``model``, the errors of each alternative the loader tried, all under the same key.
    """
    if isinstance(messages, dict):
        for name, value in messages.items():
            yield from _leaves(value, key if name == "_schema" else [*key, str(name)])
    elif isinstance(messages, list):
        for item in messages:
            yield from _leaves(item, key)
    else:
        yield key, str(messages)


def _under(flagged: list[str], key: list[str]) -> bool:
    """Whether ``key`` is ``flagged`` or holds it: a union's other alternatives only repeat the cause."""
    return flagged[: len(key)] == key


def _best(texts: list[str]) -> str:
    """The message a person can act on: a missing file first, then anything but "to reference an asset"."""
    missing = [text for text in texts if "No such file or directory" in text]
    specific = [text for text in texts if not text.startswith("In order to specify an existing")]
    return (missing or specific or texts)[0]


def _unknown_key(key: list[str], candidates: list[str]) -> Finding:
    dotted = ".".join(key)
    close = difflib.get_close_matches(key[-1], candidates, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return Finding(
        "warning",
        "yaml",
        f"{dotted}: az ml online-deployment create refuses unknown keys{hint}",
        fix=close[0] if close else None,
    )


def _missing_key(key: list[str]) -> Finding:
    dotted = ".".join(key)
    return Finding("error", "yaml", f"{dotted}: az ml online-deployment create requires this key, and it is missing.")


def _loader_refused(key: str, text: str) -> Finding:
    return Finding(
        "warning",
        "yaml",
        f"{key}: azure-ai-ml's loader (the one az ml online-deployment create runs) refuses it: {_one_line(text)}",
    )


def _could_not_run(error: BaseException) -> Finding:
    return Finding(
        "warning",
        "yaml",
        f"validation with azure-ai-ml could not run: {type(error).__name__}: {_one_line(str(error))}",
    )


def _one_line(text: str) -> str:
    """``text`` on one line, without the source line a FileNotFoundError quotes, cut to MESSAGE_LIMIT."""
    line = " ".join(text.split())
    if re.match(r"\w+Error: ", line):
        line = line.split(" from ", 1)[0]
    return line if len(line) <= MESSAGE_LIMIT else line[: MESSAGE_LIMIT - 1] + "…"


def _known_names(kind: str | None) -> Callable[[list[str]], list[str]]:
    """A function giving the key names the loader's schema accepts under a key path (for suggestions).

    The schema classes are azure-ai-ml internals (``_schema/_deployment/online/online_deployment.py``):
    should they move, suggestions are simply left out.
    """
    try:
        from azure.ai.ml._schema._deployment.online.online_deployment import (
            KubernetesOnlineDeploymentSchema,
            ManagedOnlineDeploymentSchema,
        )

        schema_class = KubernetesOnlineDeploymentSchema if kind == "kubernetes" else ManagedOnlineDeploymentSchema
        schema = schema_class(context={"base_path": Path.cwd()})
    except Exception:
        return lambda parents: []
    return lambda parents: sorted(_field_names(schema, parents))


def _field_names(schema: Any, parents: list[str]) -> set[str]:
    """The names accepted at ``parents`` in ``schema``, through nested and union fields."""
    schemas = [schema]
    for part in parents:
        schemas = [nested for current in schemas for nested in _nested_schemas(_fields_by_name(current).get(part))]
    return {name for current in schemas for name in _fields_by_name(current)}


def _fields_by_name(schema: Any) -> dict[str, Any]:
    fields = getattr(schema, "fields", None) or {}
    return {(getattr(field, "data_key", None) or name): field for name, field in fields.items()}


def _nested_schemas(field: Any) -> list[Any]:
    if field is None:
        return []
    alternatives = getattr(field, "_union_fields", None) or [field]
    nested = [getattr(alternative, "schema", None) for alternative in alternatives]
    return [schema for schema in nested if getattr(schema, "fields", None)]
