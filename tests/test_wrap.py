"""The wrapper gotchas of DESIGN.md, each checked against the server's own loader code.

``UserScript._analyze_run`` is the real azureml-inference-server-http code that decides how ``run`` is
called; these tests hand it wrapped functions directly (no HTTP), the transparency tests go through HTTP.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from azureml_inference_server_http.api import aml_request
from azureml_inference_server_http.server.input_parsers import JsonStringInput, ObjectInput, RawRequestInput
from azureml_inference_server_http.server.user_script import UserScript, UserScriptError
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema

from shim.cli.serve import wrapper_entry_script
from shim.runtime import wrap as _wrap
from tests.conftest import SCRIPTS


def analyse(run: Any) -> UserScript:
    script = UserScript()
    script._user_run = run
    script._analyze_run()
    return script


def plain_run(raw_data):  # type: ignore[no-untyped-def]
    return raw_data


@input_schema("data", StandardPythonParameterType([1, 2]))
def schema_run(data, scale=1):  # type: ignore[no-untyped-def]
    return [x * scale for x in data]


def test_signature_is_the_users() -> None:
    assert inspect.signature(_wrap.wrap_run(plain_run)) == inspect.signature(plain_run)
    assert isinstance(analyse(_wrap.wrap_run(plain_run)).input_parser, JsonStringInput)


def test_a_bare_args_kwargs_wrapper_is_rejected_by_the_server() -> None:
    # Gotcha 1: why functools.wraps is needed.
    def naive(*args, **kwargs):  # type: ignore[no-untyped-def]
        return plain_run(*args, **kwargs)

    with pytest.raises(UserScriptError, match=r"\*args, or \*\*kwargs"):
        analyse(naive)


def test_the_closure_holds_only_the_wrapped_function() -> None:
    wrapped = _wrap.wrap_run(schema_run)
    assert [cell.cell_contents for cell in wrapped.__closure__] == [schema_run]
    assert len(_wrap.wrap_init(plain_run).__closure__) == 1


def test_input_schema_is_still_detected() -> None:
    # Gotcha 2: the server keeps splitting the body into kwargs only if the wrapper is transparent.
    parser = analyse(_wrap.wrap_run(schema_run)).input_parser
    assert isinstance(parser, ObjectInput)
    assert [p.name for p in parser.parameters] == ["data", "scale"]


def test_a_second_closure_cell_would_hide_the_schema() -> None:
    # Gotcha 2, the failure it guards against: a wrapper closing over a logger that sorts after `run`.
    zlogger = object()

    def leaky(run):  # type: ignore[no-untyped-def]
        @functools.wraps(run)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            assert zlogger
            return run(*args, **kwargs)

        return wrapper

    assert isinstance(analyse(leaky(schema_run)).input_parser, JsonStringInput)


def test_request_headers_are_passed_only_when_declared() -> None:
    # Gotcha 4: the server passes request_headers to the wrapper only if the user's signature has it.
    seen = {}

    def with_headers(data, request_headers):  # type: ignore[no-untyped-def]
        seen.update(request_headers)
        return data

    script = analyse(_wrap.wrap_run(with_headers))
    assert script._wrapped_user_run(data="x", request_headers={"a": "1"}) == "x"
    assert seen == {"a": "1"}
    script = analyse(_wrap.wrap_run(plain_run))
    assert script._wrapped_user_run(raw_data="y", request_headers={"a": "1"}) == "y"


def test_rawhttp_is_still_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aml_request, "_rawHttpRequested", False)

    @aml_request.rawhttp
    def raw_run(request):  # type: ignore[no-untyped-def]
        return request

    assert isinstance(analyse(_wrap.wrap_run(raw_run)).input_parser, RawRequestInput)


@pytest.mark.parametrize("error", [TimeoutError(), ValueError("x"), SystemExit(3), KeyboardInterrupt()])
def test_exceptions_pass_through_unchanged(error: BaseException) -> None:
    # Gotchas 5 and 6: never swallowed, never converted, the very same object.
    def failing(raw_data):  # type: ignore[no-untyped-def]
        raise error

    with pytest.raises(type(error)) as caught:
        _wrap.wrap_run(failing)("x")
    assert caught.value is error


def test_return_value_is_the_same_object() -> None:
    result = object()
    assert _wrap.wrap_run(lambda raw_data: result)("x") is result
    assert _wrap.wrap_init(lambda: result)() is result


def test_metadata_and_idempotence() -> None:
    wrapped = _wrap.wrap_run(plain_run)
    assert wrapped.__name__ == "run" or wrapped.__name__ == "plain_run"
    assert wrapped.__module__ == plain_run.__module__ and wrapped.__doc__ == plain_run.__doc__
    assert wrapped.__wrapped__ is plain_run
    assert _wrap.wrap_run(wrapped) is wrapped


def test_entry_module_exposes_no_driver_module(tmp_path: Path) -> None:
    # Gotcha 7: the server would follow a `driver_module` attribute of the entry module. Loaded the way
    # the server loads it, in a fresh interpreter, with the user's script being a driver script.
    probe = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('entry_module', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps({'driver': hasattr(module, 'driver_module'), 'run': module.run('abc')}))\n"
    )
    env = {**os.environ, "SCORE_SHIM_ENTRY_SCRIPT": str(SCRIPTS / "driver.py"), "SCORE_SHIM_LOG_LEVEL": "error"}
    out = subprocess.run(
        [sys.executable, "-c", probe, str(wrapper_entry_script())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert json.loads(out.splitlines()[-1]) == {"driver": False, "run": {"from": "driver_module", "raw": "abc"}}
