"""The user's own ``config.json`` and ``logging.json``, honoured where the bare server would find them.

When the server (azureml-inference-server-http 1.5.1) imports ``azureml_inference_server_http.server.config``
(in each gunicorn worker, in the master with ``WORKER_PRELOAD``; always before it imports the entry script) it
builds its settings object (``config.py`` 202) from the environment, then from the first ``config.json`` it
finds (``get_config_file``, 44-66: ``AZUREML_CONFIG_FILE``, ``AML_APP_ROOT``, the entry script's folder), and
applies the first ``logging.json`` (dictConfig, 206-215: ``AML_APP_ROOT``, the entry script's folder, else its
own default). With the drop-in entry the entry script is ``score_wrappers/entry.py`` or a one-line file, so the
folder of the user's score.py is not looked at. The rule the shim keeps: the server's places first, then the
folder of the user's score.py, which is where the bare server would have looked; the shim's own
``score_wrappers/logging.json`` counts only when the user has none.

- ``config.json``: the server's settings object is one pydantic object that its routes read per request
  (``routes.py`` 222: ``config.scoring_timeout``), so the entry rebuilds it with the server's own class from
  the user's file and updates the existing object in place, before score.py is imported. What the server
  read before that moment (``AZUREML_DEBUG_PORT``) cannot be honoured there; ``score-shim serve`` sets
  ``AZUREML_CONFIG_FILE`` so that the server reads the file itself, in its own time.
- ``logging.json``: applied as the server applies it, but later (when the entry is imported): the loggers
  created since the server configured logging keep their state, as they would not have existed yet. Then the
  shim's stream is put on top (`shim.stream.configure.install_stdlib_bridge`), including on every logger
  the file names.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..stream.configure import SERVER_LOGGERS, ShimHandler, bridge_loggers, get_logger, install_stdlib_bridge
from .loader import ScriptLoadError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Mapping
    from typing import Any

    Environ = Mapping[str, str]

log = get_logger("shim")

CONFIG_FILE = "config.json"
LOGGING_FILE = "logging.json"
#: The server's defaults (constants.py, config.py).
DEFAULT_APP_ROOT = "/var/azureml-app"
DEFAULT_SCORING_TIMEOUT_MS = 3_600_000
SERVER_CONFIG_MODULE = "azureml_inference_server_http.server.config"
#: The server's settings that it reads before the entry script is imported (server/entry.py 8): a
#: ``config.json`` that only the entry finds cannot change them.
READ_BEFORE_ENTRY = ("AZUREML_DEBUG_PORT",)


def shim_logging_file() -> Path | None:
    """``score_wrappers/logging.json``: what the server applies beside the drop-in entry."""
    module = sys.modules.get("score_wrappers")
    where = getattr(module, "__file__", None)
    if where is None:
        try:
            import importlib.util

            spec = importlib.util.find_spec("score_wrappers")
        except (ImportError, ValueError):
            spec = None
        where = spec.origin if spec is not None else None
    return (Path(where).parent / LOGGING_FILE).resolve() if where else None


def _valid_config_file(path: str | Path | None) -> bool:
    """The server's test (config.py 69-70): the file exists and is not empty."""
    return bool(path) and os.path.exists(str(path)) and os.stat(str(path)).st_size != 0


def _entry_script_dir(environ: Environ) -> str | None:
    entry = environ.get("AZUREML_ENTRY_SCRIPT")
    return os.path.dirname(os.path.abspath(entry)) if entry else None


def config_file(script: Path | None = None, environ: Environ | None = None) -> Path | None:
    """The ``config.json`` the server reads, where the bare server would find it when ``script`` is its entry.

    ``AZUREML_CONFIG_FILE``, then ``AML_APP_ROOT``, then the folder of the server's entry script (its
    ``get_config_file``), then the folder of ``script`` (the user's score.py behind the drop-in entry).
    """
    env = os.environ if environ is None else environ
    explicit = env.get("AZUREML_CONFIG_FILE")
    if _valid_config_file(explicit):
        return Path(str(explicit))
    roots = [env.get("AML_APP_ROOT", DEFAULT_APP_ROOT), _entry_script_dir(env)]
    if script is not None:
        roots.append(str(script.parent))
    for root in roots:
        if root and os.path.isdir(root):
            candidate = os.path.join(root, CONFIG_FILE)
            if _valid_config_file(candidate):
                return Path(candidate)
    return None


def _as_timeout_ms(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return max(1, int(number)) if number == int(number) else None


def configured_scoring_timeout(script: Path | None = None, environ: Environ | None = None) -> tuple[int, str]:
    """``SCORING_TIMEOUT_MS`` as the server settles it, and where it came from: the environment
    (``"SCORING_TIMEOUT_MS"``), else the ``config.json`` of `config_file` (its path), else the server's default
    of one hour (``"default"``). An unusable value counts as unset."""
    env = os.environ if environ is None else environ
    from_env = _as_timeout_ms(env.get("SCORING_TIMEOUT_MS") or None)
    if from_env is not None:
        return from_env, "SCORING_TIMEOUT_MS"
    path = config_file(script, env)
    if path is not None:
        import json  # here, when there is a file: json is not imported by a worker's start (issue 17)

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict):
            from_file = _as_timeout_ms(data.get("SCORING_TIMEOUT_MS"))
            if from_file is not None:
                return from_file, str(path)
    return DEFAULT_SCORING_TIMEOUT_MS, "default"


def configured_scoring_timeout_ms(script: Path | None = None, environ: Environ | None = None) -> int:
    return configured_scoring_timeout(script, environ)[0]


def _server_config() -> Any:
    """The server's settings object, when this process is the server's (its config module is imported)."""
    module = sys.modules.get(SERVER_CONFIG_MODULE)
    return getattr(module, "config", None) if module is not None else None


def server_scoring_timeout_ms() -> int:
    """The scoring timeout in force in this process: the server's own value inside the server."""
    config = _server_config()
    value = _as_timeout_ms(getattr(config, "scoring_timeout", None)) if config is not None else None
    return value if value is not None else configured_scoring_timeout_ms()


# -- config.json ------------------------------------------------------------------------------------


def adopt_config(script: Path) -> dict[str, Any] | None:
    """Inside the server: the ``config.json`` beside ``script`` when the server found none, applied to the
    server's settings object in place. Returns what changed (None when there was nothing to do).

    Raises `ScriptLoadError` for a file the server would have refused (it exits with code 3 then too).
    """
    module = sys.modules.get(SERVER_CONFIG_MODULE)
    config = getattr(module, "config", None) if module is not None else None
    if module is None or config is None:
        return None
    if module.get_config_file() is not None:
        return None  # the server found one itself (AZUREML_CONFIG_FILE, AML_APP_ROOT, beside its entry script)
    candidate = script.parent / CONFIG_FILE
    if not _valid_config_file(candidate):
        return None
    fresh = _read_server_config(module, candidate)
    changed: dict[str, Any] = {}
    fields: dict[str, Any] = dict(type(config).model_fields)
    for name, field in fields.items():
        new = getattr(fresh, name)
        if new != getattr(config, name):
            # The same object that routes.py, swagger.py and appinsights_client.py imported: updated in place.
            setattr(config, name, new)
            changed[field.alias or name] = new
    _extend_sys_path(config, changed)
    return {"file": str(candidate), "changed": changed}


def _read_server_config(module: Any, path: Path) -> Any:
    """The server's settings built by its own class, with ``path`` as its config file (and the same
    environment, which still wins over the file)."""
    import pydantic

    previous = os.environ.get("AZUREML_CONFIG_FILE")
    os.environ["AZUREML_CONFIG_FILE"] = str(path)
    try:
        return module.AMLInferenceServerConfig()
    except pydantic.ValidationError as error:
        module.log_config_errors(error)  # the server's own lines for a bad value
        raise ScriptLoadError(f"{path}: a value the server cannot use: {_first_error(module, error)}") from None
    except (ValueError, TypeError, OSError) as error:  # what a broken file raises; the shim's own errors go up
        raise ScriptLoadError(
            f"{path} cannot be read as the server's config file ({type(error).__name__}: {error}); "
            "the server refuses such a file too (exit code 3)."
        ) from None
    finally:
        if previous is None:
            os.environ.pop("AZUREML_CONFIG_FILE", None)
        else:
            os.environ["AZUREML_CONFIG_FILE"] = previous


def _first_error(module: Any, error: Any) -> str:
    """The first problem, under the variable's name (as the server's own ``log_config_errors`` says it)."""
    try:
        first = error.errors()[0]
        field = first["loc"][0]
        aliases = getattr(module, "alias_mapping", {})
        name = next((alias for alias, name in aliases.items() if name == field), field)
        return f"{name}: {first['msg']}"
    except Exception:
        return str(error).splitlines()[0]


def _extend_sys_path(config: Any, changed: dict[str, Any]) -> None:
    """``AZUREML_SOURCE_DIRECTORY`` from the file: on ``sys.path`` as the server puts it (aml_blueprint.py 34-36)."""
    if "AZUREML_SOURCE_DIRECTORY" in changed and config.source_dir:
        source_dir = os.path.join(config.app_root, config.source_dir)
        if source_dir not in sys.path:
            sys.path.append(source_dir)


# -- logging.json ------------------------------------------------------------------------------------


def server_logging_file(environ: Environ | None = None) -> Path | None:
    """The ``logging.json`` the server applied in this process's set-up (config.py 206-215), or None when it
    fell back to its own default."""
    env = os.environ if environ is None else environ
    config = _server_config() if environ is None else None
    app_root = getattr(config, "app_root", None) or env.get("AML_APP_ROOT", DEFAULT_APP_ROOT)
    entry = getattr(config, "entry_script", None) or env.get("AZUREML_ENTRY_SCRIPT")
    roots = [app_root, os.path.dirname(os.path.realpath(entry)) if entry else None]
    for root in roots:
        if root and os.path.isdir(root) and os.path.isfile(os.path.join(root, LOGGING_FILE)):
            return Path(root, LOGGING_FILE)
    return None


def _is_shims(path: Path) -> bool:
    try:
        return path.resolve() == shim_logging_file()
    except OSError:
        return False


def user_logging_file(script: Path | None, environ: Environ | None = None) -> tuple[Path | None, bool]:
    """The user's ``logging.json`` in force: ``(path, applied_by_server)``; ``(None, False)`` when none.

    The server's pick when it is the user's; else the one beside ``script`` when the server's pick was the
    shim's own file or its default.
    """
    applied = server_logging_file(environ)
    if applied is not None and not _is_shims(applied):
        return applied, True
    if script is not None:
        beside = script.parent / LOGGING_FILE
        if beside.is_file():
            return beside, False
    return None, False


def _named_loggers(config: Any) -> list[str]:
    loggers = config.get("loggers") if isinstance(config, dict) else None
    return [name for name in loggers if isinstance(name, str)] if isinstance(loggers, dict) else []


def _read_logging_config(path: Path) -> dict[str, Any]:
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ScriptLoadError(
            f"{path} cannot be read as a logging configuration ({type(error).__name__}: {error}); "
            "the server refuses such a file too (exit code 3)."
        ) from None
    if not isinstance(data, dict):
        raise ScriptLoadError(f"{path} is not a logging configuration (a JSON object for logging.config.dictConfig).")
    return data


def apply_logging_config(config: dict[str, Any]) -> None:
    """``logging.config.dictConfig(config)`` as if it ran when the server configured logging.

    The server configures logging before it imports the entry script; by now more loggers exist (App
    Insights', azure-core's, ``azmlinfsrv.print``). dictConfig would disable them, or reset the children of a
    logger the file names, and flush and close their handlers: none of which the bare server does. So the
    loggers created since then (the ones the server's own logging.json did not disable, which both the
    shim's and the server's default do to every logger that existed and that they do not name) keep their
    level, handlers, filters, propagation and state, unless the file names them.
    """
    import contextlib
    import logging.config

    lock = getattr(logging, "_lock", None)  # the lock dictConfig takes (re-entrant): no record is handled meanwhile
    with lock if lock is not None else contextlib.nullcontext():
        _apply_logging_config(config)


def _apply_logging_config(config: dict[str, Any]) -> None:
    import logging.config

    manager = logging.Logger.manager
    named = set(_named_loggers(config))
    existed = {name for name, item in manager.loggerDict.items() if getattr(item, "disabled", False)}
    existed.update(SERVER_LOGGERS)
    later = {
        name: item
        for name, item in list(manager.loggerDict.items())
        if isinstance(item, logging.Logger) and name not in existed and name not in named
    }
    saved = {
        name: (item.level, list(item.handlers), list(item.filters), item.propagate, item.disabled)
        for name, item in later.items()
    }
    spared_ids = {id(handler) for item in later.values() for handler in item.handlers}
    spared_ids.update(id(handler) for handler in logging.getLogger().handlers if isinstance(handler, ShimHandler))
    # dictConfig flushes and closes every handler it knows of (logging._handlerList); spare the later ones.
    handler_list: list[Any] | None = getattr(logging, "_handlerList", None)
    spared = [ref for ref in handler_list if id(ref()) in spared_ids] if handler_list is not None else []
    if handler_list is not None and spared:
        spared_refs = {id(ref) for ref in spared}
        handler_list[:] = [ref for ref in handler_list if id(ref) not in spared_refs]
    try:
        logging.config.dictConfig(config)
    finally:
        if handler_list is not None:
            handler_list.extend(spared)
        for name, (level, handlers, filters, propagate, disabled) in saved.items():
            item = later[name]
            item.setLevel(level)
            item.handlers = handlers
            item.filters = filters
            item.propagate = propagate
            item.disabled = disabled


def adopt_logging(script: Path | None) -> dict[str, Any] | None:
    """The user's ``logging.json`` in force (applied here when the server could not find it), and the loggers it
    names bridged into the shim's stream. Returns what was done (None when the user has no logging.json).

    Raises `ScriptLoadError` for a file dictConfig refuses (the server exits with code 3 for it too).
    """
    path, applied_by_server = user_logging_file(script)
    if path is None:
        return None
    config = _read_logging_config(path)
    if not applied_by_server:
        try:
            apply_logging_config(config)
        except Exception as error:
            raise ScriptLoadError(
                f"{path} cannot be applied as the server applies it (logging.config.dictConfig): "
                f"{type(error).__name__}: {error}"
            ) from None
    names = _named_loggers(config)
    bridge_loggers(names)
    return {"file": str(path), "applied_by": "server" if applied_by_server else "shim", "loggers": names}


def adopt(script: Path, log_level: str) -> None:
    """Both files, for the user's ``script`` behind the drop-in entry; then the shim's stream on top.

    A file the server would refuse raises `ScriptLoadError` (exit code 3, as bare). The shim's own failure
    (another server version's internals, say) is reported and start-up goes on without it: it must never
    turn a working script into a failing one.
    """
    config = _guarded("user_files.config_json", adopt_config, script)
    logging_file = _guarded("user_files.logging_json", adopt_logging, script)
    install_stdlib_bridge(log_level)
    if config is not None:
        log_config_file(config)
    if logging_file is not None:
        log.info(
            "shim.logging.file",
            **logging_file,
            diagnosis=(
                "your logging.json is in force, as the server applies it; the records of the loggers it names reach "
                "this stream too (their console handlers are replaced by it, their other handlers are kept)"
            ),
        )


def _guarded(where: str, step: Any, script: Path) -> Any:
    try:
        return step(script)
    except ScriptLoadError:
        raise
    except Exception as error:
        from ..stream.configure import report_internal_error

        report_internal_error(where, error)
        return None


def log_config_file(config: dict[str, Any]) -> None:
    """``shim.config.file``: what a config.json that only the entry found changed; a warning when it holds a
    value the server had read already (`READ_BEFORE_ENTRY`)."""
    late = [key for key in READ_BEFORE_ENTRY if key in config["changed"]]
    fields = {"file": config["file"], "applied": config["changed"]}
    if late:
        log.warning(
            "shim.config.file",
            **fields,
            too_late=late,
            diagnosis=(
                f"the server read {', '.join(late)} before it imported the entry script, so the value in "
                f"{config['file']} has no effect: set it in the environment, or AZUREML_CONFIG_FILE={config['file']}"
            ),
        )
    else:
        log.info("shim.config.file", **fields)
