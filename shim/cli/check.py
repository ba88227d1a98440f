"""``score-shim check``: load a score.py as the server would, run ``init()`` and one ``run()``, in process.

The preflight that replaces a 10-20 minute deploy. Everything that decides how the server treats a script
is the server's own code, not a copy: importing ``azureml_inference_server_http.server`` installs the
``azureml.contrib.services.*`` aliases (``@rawhttp``, ``AMLResponse``), and its ``UserScript._analyze_run``
decides how ``run`` is called (plain string, ``@input_schema`` keyword arguments, ``@rawhttp`` Flask request,
``request_headers``). The script itself is loaded by the shim's loader and wrapped by the shim's wrappers,
exactly as under ``score-shim serve``, so its log lines and diagnoses are the ones a deployment shows.

The report is data (`check` returns it); `shim.cli.check_render` shows it to a person. Standard output is
kept for the report: the user's ``print`` and the shim's log lines go to standard error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from ..models.diagnosis import diagnose_init_failure
from ..models.probe import probe_models
from ..runtime import echo, events, hold, memory
from ..runtime.loader import ENV_ENTRY_SCRIPT, entry_points, import_script, resolve_entry_script
from ..runtime.setup import ensure_started
from ..runtime.user_files import configured_scoring_timeout
from ..runtime.wrap import wrap_init, wrap_run
from ..settings import ConfigError, Settings
from ..stream.configure import configure_logging
from ..stream.processors import clip, describe_exception, masked_clip
from . import multipart

#: Exit codes, documented in ``score-shim check --help`` and the README.
EXIT_OK = 0
EXIT_ERROR = 1  # the command itself could not do its job (missing file, bad --input, server not installed)
EXIT_USAGE = 2  # click's code for a bad flag
EXIT_INIT = 3  # the script cannot be loaded or init() failed: the server exits with 3 too
EXIT_RUN = 4  # run() failed, answered 5xx, or returned what the server cannot serialise
EXIT_ENVIRONMENT = 5  # --deployment: the environment lacks a package the script or the model needs
EXIT_INTERRUPTED = 130  # Ctrl-C: the report says where init() or run() was (128 + SIGINT, as shells count)

#: How much of the input and of the result the report keeps.
MAX_BODY_CHARS = 2_000
JSON_TYPE = "application/json"
MAX_RESULT_CHARS = 4_000
#: The server's own default for SCORING_TIMEOUT_MS (its config.py: one hour).
DEFAULT_SCORING_TIMEOUT_MS = 3_600_000


class CheckError(Exception):
    """``check`` cannot start: the message is one line that says what is wrong and what to do."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckOptions:
    script: Path | None
    model_dir: Path | None = None
    input: str | None = None  # JSON text, or @FILE (@- for standard input)
    #: A deployment YAML to rehearse (then ``script`` is the one it names) and the model it cannot hold.
    deployment: Path | None = None
    model_path: Path | None = None
    #: The request's Content-Type: JSON is checked before it is sent; anything else (an image for a @rawhttp
    #: run(), text) is sent as it is, read as bytes from @FILE.
    content_type: str = JSON_TYPE
    #: ``--form`` fields (NAME=VALUE, NAME=@FILE): a multipart/form-data body instead of --input.
    form: tuple[str, ...] = ()


@dataclass(frozen=True)
class Input:
    body: str
    source: str  # "--input", "@FILE path", "the @input_schema sample", "default"
    content_type: str = JSON_TYPE
    raw: bytes | None = None  # a body that is not JSON text, as read (``body`` then describes it)

    def data(self) -> bytes:
        return self.raw if self.raw is not None else self.body.encode("utf-8")


def read_input(value: str | None, content_type: str = JSON_TYPE, form: Sequence[str] = ()) -> Input | None:
    """The ``--input`` value as the request body, checked to be JSON; `CheckError` when it is not. With another
    ``content_type`` the body is sent as it is (`_raw_input`); ``--form`` fields make a multipart body."""
    if form:
        if value is not None:
            raise CheckError("give the body either as --input or as --form fields, not both.")
        return _form_input(form)
    if value is None:
        return None
    if content_type.split(";")[0].strip().lower() != JSON_TYPE:
        return _raw_input(value, content_type)
    if value.startswith("@"):
        name = value[1:]
        try:
            body = _read_file(name, "--input").decode("utf-8")
        except UnicodeDecodeError:
            raise CheckError(
                f"--input @{name}: not UTF-8 text, so not JSON; to send it as it is, add --content-type (for "
                "example image/png)."
            ) from None
        label = f"--input @{_source(name)}"
    else:
        body, label = value, "--input"
    try:
        json.loads(body)
    except ValueError as error:
        where = f" at line {error.lineno} column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        if label == "--input" and _looks_like_a_file(body):
            raise CheckError(
                f"--input {body} is not JSON but looks like a file name: to send a file, use --input @{body}."
            ) from None
        raise CheckError(
            f"{label} is not valid JSON ({reason}{where}); "
            "give the request body, e.g. --input '{\"data\": [[1, 2]]}', or a file as --input @request.json."
        ) from None
    return Input(body, label)


def _raw_input(value: str, content_type: str) -> Input:
    """A body that is not JSON (an image, text, form data the user prepared), read as bytes from @FILE."""
    if not value.startswith("@"):
        data = value.encode("utf-8")
        return Input(value, "--input", content_type, data)
    data = _read_file(value[1:], "--input")
    return Input(f"<{len(data):,} bytes of {content_type}>", f"--input @{_source(value[1:])}", content_type, data)


def _form_input(fields: Sequence[str]) -> Input:
    """``--form NAME=@FILE`` / ``NAME=VALUE``: the multipart body an upload form or ``curl -F`` sends."""
    try:
        data, content_type, described = multipart.form_body(fields, lambda name: _read_file(name, "--form"))
    except multipart.FormError as error:
        raise CheckError(str(error)) from None
    return Input(f"<multipart form: {described}>", "--form", content_type, data)


def _read_file(name: str, flag: str) -> bytes:
    """The bytes of ``@name`` (``-``: standard input); `CheckError` naming the flag when it cannot be read."""
    if not name:
        raise CheckError(f"{flag} @: name a file after the @ (for example {flag} @sample.json), or @- for stdin.")
    try:
        return sys.stdin.buffer.read() if name == "-" else Path(name).expanduser().read_bytes()
    except FileNotFoundError:
        raise CheckError(f"{flag} @{name}: no such file.") from None
    except IsADirectoryError:
        raise CheckError(f"{flag} @{name}: is a folder; name the file to send.") from None
    except OSError as error:
        raise CheckError(f"{flag} @{name}: cannot be read: {error.strerror or error}.") from None


def _source(name: str) -> str:
    return "standard input" if name == "-" else name


def _looks_like_a_file(text: str) -> bool:
    """``--input sample.json``: a file name given without its ``@``."""
    if "\n" in text or len(text) > 1024:
        return False
    try:
        return text.endswith(".json") or Path(text).expanduser().is_file()
    except (OSError, ValueError):
        return False


def _script_path(script: Path) -> Path:
    if script.is_dir():
        names = sorted(p.name for p in script.glob("*.py"))[:10]
        hint = f" It holds: {', '.join(names)}." if names else ""
        raise CheckError(f"{script} is a folder; give the path of your score.py.{hint}")
    if not script.is_file():
        raise CheckError(f"{script}: no such file. Give the path of your score.py.")
    if script.suffix != ".py":
        raise CheckError(f"{script} is not a .py file; give the path of your score.py.")
    return resolve_entry_script(str(script.resolve()))


def _prepare_environment(script: Path, model_dir: Path | None) -> None:
    """What ``score-shim serve`` (and azmlinfsrv) give the script, in this process."""
    if model_dir is not None:
        if not model_dir.is_dir():
            what = "is a file, not a folder" if model_dir.exists() else "no such folder"
            raise CheckError(f"--model-dir {model_dir}: {what}. Give the folder that holds your model.")
        os.environ["AZUREML_MODEL_DIR"] = str(model_dir.resolve())
    os.environ.setdefault("AML_APP_ROOT", os.getcwd())
    os.environ["AZUREML_ENTRY_SCRIPT"] = str(script)
    os.environ[ENV_ENTRY_SCRIPT] = str(script)
    app_root = os.environ["AML_APP_ROOT"]
    if app_root not in sys.path:
        sys.path.append(app_root)  # as the server's aml_blueprint does


def import_server() -> None:
    try:
        import azureml_inference_server_http.server  # noqa: F401  (installs the azureml.contrib.services aliases)
    except ImportError as error:
        raise CheckError(
            f"the Azure ML inference server is not installed in this Python ({sys.executable}): "
            "pip install azureml-inference-server-http; "
            f"check loads your script as the server does ({error.name or error})."
        ) from None


def _start_logging() -> None:
    """The shim's log lines (and the stdlib records it bridges) go to standard error, never stdout."""
    try:
        Settings.from_env()  # a bad SCORE_SHIM_* value is a one-line error here, not a log line on stdout
    except ConfigError as error:
        raise CheckError(str(error)) from None
    configure_logging(stream=sys.stderr)  # before the settings are applied: a warning there goes to stderr too
    settings = ensure_started()
    configure_logging(settings, stream=sys.stderr)
    # The shim's first log line imports structlog and importlib.metadata (its init line names the server's
    # version), about 50 ms: imported here, so that init()'s timing is the script's, not the shim's.
    import importlib.metadata  # noqa: F401

    import structlog  # noqa: F401

    # check reports failures: no hold mode that swallows init(), no debug echo that turns run() errors into answers.
    hold.enabled = False
    echo.enabled = False


def _ms(started: float) -> float:
    return round((perf_counter() - started) * 1000, 3)


def _error(error: BaseException) -> dict[str, Any]:
    described = describe_exception(error)
    described.pop("traceback", None)
    if isinstance(error, SyntaxError) and error.filename:
        # The frame of a SyntaxError is the import machinery; the place to fix is the one it names.
        described["where"] = {"file": error.filename, "line": error.lineno, "function": "<module>"}
    tb = _traceback_text(error)
    if tb:
        described["traceback"] = tb
    return described


def _traceback_text(error: BaseException) -> str | None:
    if getattr(error, "explains_itself", False):
        return None
    import traceback

    try:
        return masked_clip("".join(traceback.format_exception(type(error), error, error.__traceback__)), 8_000)
    except Exception:
        return None


def _run_mode(user_script: Any) -> str:
    from azureml_inference_server_http.server.input_parsers import ObjectInput, RawRequestInput

    parser = user_script.input_parser
    if isinstance(parser, RawRequestInput):
        return "rawhttp"
    if isinstance(parser, ObjectInput):
        return "input_schema"
    return "plain"


def _sample(run: Any, mode: str) -> Input:
    """The body to send when no --input is given: the ``@input_schema`` example, as the server's swagger has it."""
    if mode == "input_schema":
        try:
            from inference_schema.schema_util import get_input_schema

            example = get_input_schema(run).get("example")
            if example is not None:
                return Input(json.dumps(example), "the @input_schema sample")
        except Exception:
            pass
    return Input("{}", "default ({}; give --input for a real request)")


def _response(result: Any) -> tuple[Any, str | None]:
    """The response the server sends for ``result``, and why it is a 500 (None when it is not).

    A plain value goes through the server's own ``AMLResponse(result, 200, json_str=True)`` (its
    ``wrap_response``); when ``json.dumps`` fails there the server's error handler answers 500.
    """
    import flask
    from azureml_inference_server_http.api.aml_response import AMLResponse

    if isinstance(result, flask.Response):
        if result.status_code >= 500:
            return result, f"run() answered HTTP {result.status_code}: the server marks it x-ms-run-function-failed"
        return result, None
    try:
        return AMLResponse(result, 200, {}, json_str=True), None
    except (TypeError, ValueError, RecursionError) as error:
        problem = (
            f"run() returned a {type(result).__name__} that is not JSON-serialisable ({error}): the server answers "
            "500. Return lists, dicts, str, numbers (e.g. array.tolist()), or an AMLResponse."
        )
        answer = AMLResponse({"message": "An unexpected error occurred while processing the request."}, 500, {}, True)
        return answer, problem


def _output(result: Any, response: Any, problem: str | None) -> dict[str, Any]:
    """What the report shows of the result: the body the client gets (or the value, when it has none)."""
    import flask

    if isinstance(result, flask.Response) or problem is None:
        try:
            text = response.get_data(as_text=True)
        except Exception as error:  # a streamed or binary body
            text = f"<body not readable as text: {type(error).__name__}>"
    else:
        text = _safe_repr(result)
    return {
        "type": type(result).__name__,
        "content_type": response.headers.get("Content-Type"),
        "text": clip(text, MAX_RESULT_CHARS),
        "chars": len(text),
        "serialisable": not (problem and not isinstance(result, flask.Response)),
    }


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as error:
        return f"<{type(value).__name__}: repr failed: {type(error).__name__}>"


def _call_run(user_script: Any, sent: Input, report: dict[str, Any]) -> int:
    """One POST /score with ``sent``, through the server's own input parser; fills ``report['run']``."""
    import flask
    from azureml_inference_server_http.server.input_parsers import BadInput, InputError, UnsupportedInput

    request_id = f"check-{uuid.uuid4()}"
    app = flask.Flask("score_shim_check")
    headers = {"Content-Type": sent.content_type, "x-request-id": request_id}
    run: dict[str, Any] = {"request_id": request_id}
    report["run"] = run
    with app.test_request_context("/score", method="POST", data=sent.data(), headers=headers):
        flask.g.request_id = request_id
        flask.g.client_request_id = ""
        try:
            parameters = user_script.input_parser(flask.request)
        except InputError as error:
            status = 400 if isinstance(error, BadInput) else 415 if isinstance(error, UnsupportedInput) else 405
            run.update(ok=False, http_status=status, problem=f"the server answers {status} before run(): {error}")
            return EXIT_RUN
        run["arguments"] = sorted(parameters)
        timeout_ms, timeout_from = scoring_timeout()
        run["scoring_timeout_ms"] = timeout_ms
        run["scoring_timeout_from"] = timeout_from
        started = perf_counter()
        try:
            with server_timeout(timeout_ms):  # the server's own SIGALRM timer, as its invoke_run sets it
                result = user_script._wrapped_user_run(**parameters, request_headers=dict(flask.request.headers))
        except KeyboardInterrupt as error:
            return _interrupted(run, error, started, "run()")
        except TimeoutError as error:  # what the server catches as its scoring timeout, whatever raised it
            run.update(ok=False, duration_ms=_ms(started), http_status=500, error=_error(error))
            run["problem"] = (
                f"run() outlasted the scoring timeout ({timeout_ms:,} ms, {_timeout_origin(timeout_from)}): "
                "the server answers 500 "
                f"'Scoring timeout after {timeout_ms} ms'. Make run() faster or raise the timeout "
                "(request_settings.request_timeout_ms in the deployment)."
            )
            return EXIT_RUN
        except BaseException as error:
            run.update(ok=False, duration_ms=_ms(started), http_status=500, error=_error(error))
            run["problem"] = "run() raised: the server answers 500 and logs the traceback"
            return EXIT_RUN
        run["duration_ms"] = _ms(started)
        response, problem = _response(result)
        run["http_status"] = response.status_code
        run["output"] = _output(result, response, problem)
        # As when the server has answered: the shim's access hook writes its shim.run.ok line (to stderr).
        with contextlib.suppress(Exception):
            flask.request_finished.send(app, response=response)
            response.close()
    run["ok"] = problem is None
    if problem is not None:
        run["problem"] = problem
        return EXIT_RUN
    return EXIT_OK


def check(options: CheckOptions) -> tuple[dict[str, Any], int]:
    """Load, ``init()``, one ``run()``: the report (see the README) and the exit code.

    Raises `CheckError` when the check cannot even start (a missing file, bad input, no server installed).
    """
    given = read_input(options.input, options.content_type, options.form)
    if options.script is None:
        raise CheckError("name your score.py, or a deployment YAML with --deployment.", EXIT_USAGE)
    script = _script_path(options.script)
    import_server()
    _prepare_environment(script, options.model_dir)
    return checked(script, given)


def checked(script: Path, given: Input | None) -> tuple[dict[str, Any], int]:
    """The check of ``script`` in this process's environment, as it has been prepared."""
    _start_logging()
    report: dict[str, Any] = {
        "script": str(script),
        "azureml_model_dir": os.environ.get("AZUREML_MODEL_DIR"),
        "aml_app_root": os.environ.get("AML_APP_ROOT"),
        "ok": False,
    }
    with contextlib.redirect_stdout(sys.stderr):  # the user's print() must not mix with the report
        code = _check(script, given, report)
    report["memory"] = memory.snapshot()
    report["exit_code"] = code
    report["ok"] = code == EXIT_OK
    return report, code


def _check(script: Path, given: Input | None, report: dict[str, Any]) -> int:
    from azureml_inference_server_http.server.user_script import UserScript, UserScriptError

    load: dict[str, Any] = {}
    report["load"] = load
    started = perf_counter()
    try:
        module = import_script(script)
        init, run = entry_points(module)
        user_script = UserScript(str(script))
        user_script._user_init = wrapped_init = wrap_init(init)
        user_script._user_run = wrapped_run = wrap_run(run)
        user_script._analyze_run()
    except KeyboardInterrupt as error:
        return _interrupted(load, error, started, "loading the script")
    except BaseException as error:
        load.update(ok=False, duration_ms=_ms(started), error=_error(error))
        events.init_failed(error, started, phase="load", entry_script=str(script))  # as under the server
        if isinstance(error, UserScriptError):
            load["problem"] = f"the server refuses this run(): {error}"
        diagnosis = diagnose_init_failure(error)
        if diagnosis is not None:
            load["diagnosis"] = diagnosis.as_dict()
        report["model_probe"] = probe_models()
        return EXIT_INIT
    mode = _run_mode(user_script)
    parameters = [name for name in _parameters(run) if name != "request_headers"]
    load.update(
        ok=True,
        duration_ms=_ms(started),
        mode=mode,
        parameters=parameters,
        request_headers="request_headers" in _parameters(run),
    )

    report["model_probe"] = probe_models()
    init_report: dict[str, Any] = {}
    report["init"] = init_report
    started = perf_counter()
    try:
        wrapped_init()
    except KeyboardInterrupt as error:
        return _interrupted(init_report, error, started, "init()")
    except BaseException as error:
        init_report.update(ok=False, duration_ms=_ms(started), error=_error(error))
        diagnosis = diagnose_init_failure(error)
        if diagnosis is not None:
            init_report["diagnosis"] = diagnosis.as_dict()
        init_report["memory"] = memory.snapshot()
        return EXIT_INIT
    init_report.update(ok=True, duration_ms=_ms(started), memory=memory.snapshot())

    sent = given or _sample(wrapped_run, mode)
    report["input"] = {"source": sent.source, "body": clip(sent.body, MAX_BODY_CHARS), "chars": len(sent.body)}
    if sent.raw is not None:
        report["input"].update(content_type=sent.content_type, bytes=len(sent.raw))
    return _call_run(user_script, sent, report)


def scoring_timeout_ms() -> int:
    """``SCORING_TIMEOUT_MS`` as the server reads it: the environment, else the ``config.json`` the server reads
    (beside the script, or in ``AML_APP_ROOT``, or ``AZUREML_CONFIG_FILE``), else its default of one hour."""
    return scoring_timeout()[0]


def scoring_timeout() -> tuple[int, str]:
    """`scoring_timeout_ms` and where it came from (``SCORING_TIMEOUT_MS``, a config.json's path, ``default``)."""
    script = os.environ.get(ENV_ENTRY_SCRIPT)
    return configured_scoring_timeout(Path(script) if script else None)


def _timeout_origin(source: str) -> str:
    if source == "SCORING_TIMEOUT_MS":
        return "SCORING_TIMEOUT_MS"
    if source == "default":
        return "the server's default"
    return f"SCORING_TIMEOUT_MS in {source}"


def server_timeout(timeout_ms: int) -> contextlib.AbstractContextManager[None]:
    from azureml_inference_server_http.server.utils import timeout

    return timeout(timeout_ms)  # type: ignore[no-any-return]


def _interrupted(section: dict[str, Any], error: BaseException, started: float, phase: str) -> int:
    """Ctrl-C in the user's code: where it was, instead of click's bare "Aborted!"."""
    section.update(ok=False, interrupted=True, duration_ms=_ms(started), error=_error(error))
    section["problem"] = f"interrupted (Ctrl-C) in {phase} after {_ms(started) / 1000:,.1f} s: it was at the line above"
    return EXIT_INTERRUPTED


def _parameters(run: Any) -> list[str]:
    import inspect

    try:
        return list(inspect.signature(run).parameters)
    except (TypeError, ValueError):
        return []
