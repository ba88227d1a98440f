"""Secrets never reach a log line: environment values that look secret, and credential shapes."""

from __future__ import annotations

import pytest

from shim.stream.redaction import Redactor, looks_secret


@pytest.mark.parametrize(
    "name", ["AZURE_STORAGE_KEY", "DB_PASSWORD", "API_TOKEN", "MY_CONNECTION_STRING", "SAS_URL", "CLIENT_SECRET"]
)
def test_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize("name", ["HOME", "PATH", "AZUREML_MODEL_DIR", "PWD", "WORKER_COUNT"])
def test_ordinary_names(name: str) -> None:
    assert not looks_secret(name)


def test_environment_values_are_masked_with_their_name_even_json_escaped() -> None:
    redact = Redactor({"STORAGE_KEY": 'abc"def\\ghi', "HOME": "models/home-dir", "SHORT_KEY": "1"})
    assert redact('key abc"def\\ghi used') == "key [REDACTED:STORAGE_KEY] used"
    assert redact('{"event": "key abc\\"def\\\\ghi used"}') == '{"event": "key [REDACTED:STORAGE_KEY] used"}'
    assert redact("home is models/home-dir, flag 1") == "home is models/home-dir, flag 1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [REDACTED]"),
        ("{'authorization': 'Basic dXNlcjpwYXNzd29yZA=='}", "{'authorization': 'Basic [REDACTED]'}"),
        ("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl x", "t=[REDACTED] x"),
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy+/==;EndpointSuffix=core.windows.net",
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[REDACTED];EndpointSuffix=core.windows.net",
        ),
        (
            "Endpoint=sb://x/;SharedAccessKeyName=Root;SharedAccessKey=abc123=",
            "Endpoint=sb://x/;SharedAccessKeyName=Root;SharedAccessKey=[REDACTED]",
        ),
        ("Server=db;User Id=u;Password=p@ss;", "Server=db;User Id=u;Password=[REDACTED];"),
        (
            "https://a.blob.core.windows.net/c?sv=2022&sig=AbCd%2FEf1234&se=1",
            "https://a.blob.core.windows.net/c?sv=2022&sig=[REDACTED]&se=1",
        ),
        ('{"x-api-key": "0123456789abcdef"}', '{"x-api-key": "[REDACTED]"}'),
    ],
)
def test_credential_shapes(text: str, expected: str) -> None:
    assert Redactor({})(text) == expected


def test_ordinary_lines_are_untouched() -> None:
    line = '{"timestamp": "2026-11-25T17:21:55.213817Z", "level": "info", "event": "shim.run.ok", "logger": "shim"}'
    assert Redactor({})(line) is line
    assert Redactor({})("a basic test of the key idea") == "a basic test of the key idea"
