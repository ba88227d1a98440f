"""The init-time model probe: what the container really has where the model should be, as data.

`probe_models` returns a plain dict (the ``shim.model.probe`` event's fields), so that the init wrapper
can log it and ``score-shim check`` / ``score-shim logs`` can render it. It never raises: every problem it
meets (an unset or relative ``AZUREML_MODEL_DIR``, a file where a folder should be, unreadable folders,
symlink loops, non-UTF-8 names, ``//`` in paths) becomes a line in ``problems``.

The walk is bounded in entries, depth and time, breadth first (the top of the tree first, which is what
a person reads): a model folder of 100,000 files costs a few milliseconds, and the event says where and
why the walk was cut (``walk.cut``).
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from ..stream.console import register_view
from .paths import MODELS_FOLDER, RUN_CONTEXT_VARIABLES, cached_models, models_dir

#: Bounds of the walk under AZUREML_MODEL_DIR.
MAX_ENTRIES = 5_000
MAX_DEPTH = 6
MAX_SECONDS = 0.05
#: How many entries the event lists (breadth first); the walk itself counts more.
MAX_LISTED = 40


def display(name: str) -> str:
    """A file name as text that survives JSON and terminals: undecodable bytes shown as ``\\xff``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _path_facts(variable: str, value: str | None, problems: list[str]) -> dict[str, Any]:
    facts: dict[str, Any] = {"given": value}
    if value is None:
        return facts
    if value == "":
        problems.append(f"{variable} is set but empty")
        return facts
    absolute = os.path.abspath(value)
    facts["absolute"] = absolute
    if not os.path.isabs(value):
        problems.append(
            f"{variable} is relative ({value!r}): it resolves against the working directory ({os.getcwd()}) "
            f"to {absolute}; the server does not make it absolute, so give an absolute path"
        )
    if "//" in value.replace("://", ""):
        problems.append(
            f"{variable} contains '//' ({value!r}): harmless on Linux, but a sign of a path joined "
            "from an empty part (an unset variable?)"
        )
    try:
        st = os.stat(value)
        facts["exists"] = True
        facts["is_dir"] = stat.S_ISDIR(st.st_mode)
    except FileNotFoundError:
        facts["exists"] = False
        if os.path.islink(value):
            problems.append(f"{variable} is a broken symlink ({value} -> {display(os.readlink(value))})")
    except OSError as error:
        facts["exists"] = os.path.lexists(value)
        problems.append(f"{variable} ({value}) cannot be read: {error.strerror}")
    real = os.path.realpath(value)
    if real != absolute:
        facts["symlink_target"] = display(real)
    return facts


def _layout(model_dir: str | None, facts: dict[str, Any]) -> str:
    if not model_dir:
        return "unset"
    if not facts.get("exists"):
        return "missing"
    if not facts.get("is_dir"):
        return "not_a_folder"
    try:
        entries = os.listdir(model_dir)
    except OSError:
        return "unreadable"
    if not entries:
        return "empty"
    if os.path.basename(os.path.normpath(model_dir)).isdigit():
        # azmlinfsrv's own rule: a last component of digits is one model's version folder
        # (v2 managed endpoints: azureml-models/<name>/<version>).
        return "single_model_version"
    if os.path.basename(os.path.normpath(model_dir)) == MODELS_FOLDER or looks_like_models_root(model_dir, entries):
        return "multi_model_root"
    return "v2_folder"


def looks_like_models_root(model_dir: str, entries: list[str]) -> bool:
    """Whether a folder is laid out as ``azureml-models`` is, whatever its name: model folders of version folders."""
    for entry in entries[:50]:
        try:
            versions = os.listdir(os.path.join(model_dir, entry))
        except OSError:
            return False
        if not versions or not all(v.isdigit() for v in versions):
            return False
    return True


def _scandir(path: str) -> Iterator[os.DirEntry[str]]:
    with os.scandir(path) as it:
        yield from it


@dataclass(slots=True)
class _Walk:
    """What a walk has found so far and its bounds: one object, so that each of its steps is a function of its own."""

    max_entries: int
    max_depth: int
    max_listed: int
    max_seconds: float
    deadline: float
    listing: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: int = 0
    dirs: int = 0
    links: int = 0
    total: int = 0
    seen: int = 0
    depth_limited: bool = False
    cut: dict[str, Any] | None = None
    visited: set[str] = field(default_factory=set)
    queue: deque[tuple[str, str, int]] = field(default_factory=deque)


def walk(
    root: str,
    *,
    max_entries: int = MAX_ENTRIES,
    max_depth: int = MAX_DEPTH,
    max_seconds: float = MAX_SECONDS,
    max_listed: int = MAX_LISTED,
) -> dict[str, Any]:
    """A bounded, breadth-first walk: counts, total size, the first entries, problems, and where it stopped.

    Symlinked folders are followed once (their real path is remembered), so a loop is reported, not walked.
    """
    started = perf_counter()
    state = _Walk(max_entries, max_depth, max_listed, max_seconds, started + max_seconds)
    state.visited.add(os.path.realpath(root))
    state.queue.append((root, "", 1))
    while state.queue and state.cut is None:
        _walk_folder(state, *state.queue.popleft())
    return _walk_result(state, started)


def _walk_folder(state: _Walk, folder: str, rel_folder: str, depth: int) -> None:
    """One folder's entries, until a bound is reached; a folder that cannot be listed is a problem, not an error."""
    try:
        for entry in _scandir(folder):
            state.seen += 1
            if state.seen > state.max_entries:
                state.cut = {"reason": "entries", "limit": state.max_entries}
                break
            if state.seen % 64 == 0 and perf_counter() > state.deadline:
                state.cut = {"reason": "time", "limit_ms": round(state.max_seconds * 1000, 1)}
                break
            item = _walk_entry(state, entry, folder, f"{rel_folder}{entry.name}", depth)
            if len(state.listing) < state.max_listed:
                state.listing.append(item)
    except OSError as error:
        state.problems.append(f"cannot list {display(rel_folder.rstrip('/') or '.')}: {error.strerror}")


def _walk_entry(state: _Walk, entry: os.DirEntry[str], folder: str, rel: str, depth: int) -> dict[str, Any]:
    """One entry, counted and listed as what it is; what cannot be read about it becomes a problem."""
    if not _is_utf8(entry.name):
        state.problems.append(f"non-UTF-8 file name: {display(rel)} (open it with os.fsencode / bytes paths)")
    item: dict[str, Any] = {"path": display(rel)}
    try:
        is_link = entry.is_symlink()
        if is_link:
            state.links += 1
            item["link"] = display(os.readlink(entry.path))
        if entry.is_dir():
            _walk_dir(state, entry, folder, rel, depth, item)
        elif entry.is_file():
            state.files += 1
            item["type"] = "file"
            size = entry.stat().st_size
            item["bytes"] = size
            state.total += size
        elif is_link:
            item["type"] = "broken_link"
            what = "symlink loop" if _points_to_itself(entry.path) else "broken symlink"
            state.problems.append(f"{what}: {display(rel)} -> {item['link']}")
        else:
            item["type"] = "other"
    except OSError as error:
        if error.errno == errno.ELOOP:
            item["type"] = "symlink_loop"
            state.problems.append(f"symlink loop: {display(rel)} -> {item.get('link', '?')}")
        else:
            item["type"] = "unreadable"
            state.problems.append(f"{display(rel)}: {error.strerror}")
    return item


def _walk_dir(state: _Walk, entry: os.DirEntry[str], folder: str, rel: str, depth: int, item: dict[str, Any]) -> None:
    """A folder: queued to be walked, unless it is a symlink loop, a folder walked already, or too deep."""
    state.dirs += 1
    item["type"] = "dir"
    is_link = "link" in item  # set by `_walk_entry` for every symlink it could read
    real = os.path.realpath(entry.path) if is_link else entry.path
    if is_link and within(os.path.realpath(folder), real):
        state.problems.append(f"symlink loop: {display(rel)} -> {item['link']} (not followed)")
    elif is_link and real in state.visited:
        item["not_walked"] = "walked already (another path to the same folder)"
    elif depth >= state.max_depth:
        state.depth_limited = True
        item["not_walked"] = "depth"
    else:
        state.visited.add(os.path.realpath(entry.path))
        state.queue.append((entry.path, rel + "/", depth + 1))


def _walk_result(state: _Walk, started: float) -> dict[str, Any]:
    """The walk's report; where it was cut, its counts cover only the part walked, and it says so."""
    result: dict[str, Any] = {
        "files": state.files,
        "dirs": state.dirs,
        "symlinks": state.links,
        "total_bytes": state.total,
        "entries_seen": min(state.seen, state.max_entries),
        "listing": state.listing,
        "listed": len(state.listing),
        "complete": state.cut is None and not state.depth_limited,
        "duration_ms": round((perf_counter() - started) * 1000, 3),
    }
    if state.cut is not None:
        result["cut"] = state.cut
        result["note"] = "counts and total_bytes cover only the part walked"
    elif state.depth_limited:
        result["cut"] = {"reason": "depth", "limit": state.max_depth}
    if state.problems:
        result["problems"] = state.problems[:20]
    return result


def within(path: str, ancestor: str) -> bool:
    """Whether ``path`` is ``ancestor`` or lies below it: a symlink to an ancestor is a loop."""
    return path == ancestor or path.startswith(ancestor.rstrip(os.sep) + os.sep)


def _points_to_itself(path: str) -> bool:
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def probe_models(environ: Mapping[str, str] | None = None, **bounds: Any) -> dict[str, Any]:
    """The ``shim.model.probe`` report: where the model should be, what is there, and what looks wrong.

    Keys: ``aml_app_root`` and ``azureml_model_dir`` (``given``, ``absolute``, ``exists``, ``is_dir``,
    ``symlink_target``), ``layout`` (``unset``, ``missing``, ``not_a_folder``, ``unreadable``, ``empty``,
    ``single_model_version``, ``multi_model_root``, ``v2_folder``), ``models`` (name -> versions found,
    from ``AZUREML_MODEL_DIR`` and from azureml-core's ``MODELS_DIR``), ``walk`` (see `walk`), ``problems``,
    ``cwd``, ``duration_ms``. Never raises.
    """
    started = perf_counter()
    report: dict[str, Any] = {}
    problems: list[str] = []
    try:
        env = os.environ if environ is None else environ
        try:
            report["cwd"] = os.getcwd()
        except OSError:
            problems.append("the working directory no longer exists")
        report["aml_app_root"] = _path_facts("AML_APP_ROOT", env.get("AML_APP_ROOT"), problems)
        model_dir = env.get("AZUREML_MODEL_DIR")
        facts = _path_facts("AZUREML_MODEL_DIR", model_dir, problems)
        report["azureml_model_dir"] = facts
        layout = _layout(model_dir, facts)
        report["layout"] = layout
        models: dict[str, Any] = {}
        if layout == "unset":
            problems.append(
                "AZUREML_MODEL_DIR is not set: fine for a script without a model; if yours loads one, pass the "
                "model folder (score-shim check / serve --model-dir, azmlinfsrv --model_dir), or check the "
                "deployment's model"
            )
        elif layout == "missing":
            problems.append(f"AZUREML_MODEL_DIR ({model_dir}) does not exist")
        elif layout == "not_a_folder":
            problems.append(f"AZUREML_MODEL_DIR ({model_dir}) is a file, not a folder")
        elif layout == "empty":
            problems.append(f"AZUREML_MODEL_DIR ({model_dir}) is empty: the model was not mounted or downloaded")
        elif layout == "unreadable":
            problems.append(f"AZUREML_MODEL_DIR ({model_dir}) cannot be listed by this process")
        if model_dir and layout not in ("unset", "missing", "not_a_folder", "unreadable"):
            walked = walk(model_dir, **bounds)
            report["walk"] = walked
            problems.extend(walked.get("problems", []))
            if layout == "single_model_version":
                folder = os.path.normpath(model_dir)
                models[display(os.path.basename(os.path.dirname(folder)))] = {
                    "versions": [os.path.basename(folder)],
                    "where": "AZUREML_MODEL_DIR",
                }
            elif layout == "multi_model_root":
                for name, versions in cached_models(model_dir).items():
                    models[display(name)] = {"versions": versions, "where": "AZUREML_MODEL_DIR"}
        cache = models_dir(env)
        report["models_dir"] = {"path": cache, "exists": os.path.isdir(cache)}
        if report["models_dir"]["exists"] and os.path.abspath(cache) != os.path.abspath(model_dir or ""):
            for name, versions in cached_models(cache).items():
                models.setdefault(display(name), {"versions": versions, "where": "azureml-models"})
        report["models"] = models
        if all(env.get(name) for name in RUN_CONTEXT_VARIABLES):
            problems.append(
                "the run-context variables (AZUREML_RUN_ID, AZUREML_ARM_SUBSCRIPTION, ...) are set: azureml-core's "
                "Model.get_model_path will go to the workspace over the network before the local cache"
            )
    except Exception as error:  # the probe must never break init(); say what happened instead
        problems.append(f"the probe stopped early: {type(error).__name__}: {error}")
    report["problems"] = problems
    report["duration_ms"] = round((perf_counter() - started) * 1000, 3)
    return report


def probe_summary(probe: dict[str, Any]) -> list[str]:
    """The model probe in a few lines: where AZUREML_MODEL_DIR points, what is there, what looks wrong."""
    facts = probe.get("azureml_model_dir") or {}
    layout = probe.get("layout")
    lines = [f"AZUREML_MODEL_DIR={facts.get('absolute') or facts.get('given') or '(not set)'} ({layout})"]
    walked = probe.get("walk") or {}
    if walked:
        listing = [entry.get("path") for entry in walked.get("listing", [])[:8] if entry.get("type") == "file"]
        shown = ", ".join(str(path) for path in listing)
        more = "" if walked.get("complete", True) else " (more not listed)"
        lines.append(f"{walked.get('files', 0)} file(s), {walked.get('total_bytes', 0):,} bytes: {shown}{more}")
    for name, found in (probe.get("models") or {}).items():
        lines.append(f"model {name}: version(s) {', '.join(found.get('versions', []))} in {found.get('where')}")
    lines.extend(f"problem: {problem}" for problem in probe.get("problems", []))
    return lines


def console_view(event_dict: dict[str, Any]) -> dict[str, Any]:
    """``shim.model.probe`` on a terminal: its summary in a line or two instead of the report's nested data."""
    keep = ("timestamp", "level", "event", "logger", "pid", "host")
    head: dict[str, Any] = {key: event_dict[key] for key in keep if key in event_dict}
    lines = probe_summary(event_dict)
    head["model"] = "; ".join(line for line in lines if not line.startswith("problem: "))
    problems = [line.removeprefix("problem: ") for line in lines if line.startswith("problem: ")]
    if problems:
        head["problems"] = " | ".join(problems)
    return head


register_view("shim.model.probe", console_view)
