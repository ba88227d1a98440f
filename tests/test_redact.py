"""Secrets never reach a log line: environment values that look secret (in every form), values under keys that
name a secret, and credential shapes; masked on values, before lines are bounded or rendered."""

from __future__ import annotations

import base64
import io
import json
import logging
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shim import Settings
from shim.runtime import payload
from shim.stream import processors, redaction
from shim.stream.configure import ShimHandler, configure_logging, get_logger
from shim.stream.credentials import secret_key
from shim.stream.redaction import MIN_SECRET_LENGTH, Redactor, looks_secret
from tests._secrets import forms, leaks, pem, strings


@pytest.mark.parametrize(
    "name",
    [
        "AZURE_STORAGE_KEY", "DB_PASSWORD", "API_TOKEN", "MY_CONNECTION_STRING", "SAS_URL", "CLIENT_SECRET",
        "DB_PASS", "SMTP_PASS", "HF_TOKEN", "OPENAI_APIKEY", "JWT_PRIVATE_KEY", "DBPASSWORD", "DB_PWD",
    ],
)  # fmt: skip
def test_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "HOME", "PATH", "AZUREML_MODEL_DIR", "PWD", "WORKER_COUNT", "PASSTHROUGH", "BYPASS_PROXY", "MAX_TOKENS",
        "TOKENIZERS_PARALLELISM", "KEYVAULT_URL", "COMPASS_DIR",
    ],
)  # fmt: skip
def test_ordinary_names(name: str) -> None:
    assert not looks_secret(name)


@pytest.mark.parametrize(
    "key",
    [
        "password", "DbPassword", "db_pass", "pwd", "client_secret", "access_token", "token", "x-api-key",
        "X-Api-Key", "api-key", "apiKey", "Ocp-Apim-Subscription-Key", "x-functions-key", "AccountKey",
        "SharedAccessKey", "SharedAccessSignature", "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
        "sig", "spring.datasource.password", "auth", "credentials",
    ],
)  # fmt: skip
def test_keys_that_name_a_secret(key: str) -> None:
    assert secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "token_type", "max_tokens", "input_tokens", "secret_name", "SharedAccessKeyName", "bypass", "passthrough",
        "key", "monkey", "event", "request_id", "auth_type", "signature", "AccountName",
    ],
)  # fmt: skip
def test_keys_that_do_not(key: str) -> None:
    assert not secret_key(key)


# -- environment values, in every form ---------------------------------------------------------------------

TRICKY = "Pa\"ss\\wo'rd\n\x01\x7f\u00e9\u2603-42"


@pytest.mark.parametrize("form", sorted(forms(TRICKY)))
def test_an_environment_value_is_masked_in_every_form(form: str) -> None:
    redact = Redactor({"DB_PASSWORD": TRICKY})
    assert redact(f"before {form} after") == "before [REDACTED:DB_PASSWORD] after"


def test_environment_values_are_masked_with_their_name() -> None:
    redact = Redactor({"STORAGE_KEY": 'abc"def\\ghi', "HOME": "models/home-dir", "SHORT_KEY": "1"})
    assert redact('key abc"def\\ghi used') == "key [REDACTED:STORAGE_KEY] used"
    assert redact("home is models/home-dir, flag 1") == "home is models/home-dir, flag 1"


def test_digit_only_values_are_masked_as_whole_tokens_only() -> None:
    redact = Redactor({"SERVICE_TOKEN": "100000"})
    assert redact("token 100000, then 1000000 and 100000.5 and x100000") == (
        "token [REDACTED:SERVICE_TOKEN], then 1000000 and 100000.5 and x100000"
    )
    event = redact.event({"event": "e", "input_bytes": 100000, "value": "100000", "ratio": 100000.0})
    assert event == {"event": "e", "input_bytes": 100000, "value": "[REDACTED:SERVICE_TOKEN]", "ratio": 100000.0}


def test_short_values_are_named_not_masked_in_text_but_masked_under_keys() -> None:
    redact = Redactor({"SMTP_PASS": "pw1", "DB_PASSWORD": "long-enough-1", "EMPTY_SECRET": ""})
    assert redact.short_secret_names == ["SMTP_PASS"]
    assert redact("login pw1 failed") == "login pw1 failed"
    assert redact.event({"event": "e", "smtp_pass": "pw1"})["smtp_pass"] == "[REDACTED]"
    assert redact("smtp_pass=pw1;") == "smtp_pass=[REDACTED];"


# -- keys and shapes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [REDACTED]"),
        ("{'authorization': 'Basic dXNlcjpwYXNzd29yZA=='}", "{'authorization': 'Basic [REDACTED]'}"),
        ("Authorization: SharedKey acct:c2lnbmF0dXJl==", "Authorization: SharedKey [REDACTED]"),
        ("Authorization: Token abc123", "Authorization: Token [REDACTED]"),
        ("Proxy-Authorization: opaque-credential", "Proxy-Authorization: [REDACTED]"),
        ("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl x", "t=[REDACTED] x"),
        ("sent Bearer abcdefgh12345678 upstream", "sent Bearer [REDACTED] upstream"),
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
        ('?sig=AAAAAAAAAA"', '?sig=[REDACTED]"'),
        ('{"x-api-key": "0123456789abcdef"}', '{"x-api-key": "[REDACTED]"}'),
        (
            '{"Host": "h", "Api-Key": "k1", "Ocp-Apim-Subscription-Key": "k2", "X-Case": "token"}',
            '{"Host": "h", "Api-Key": "[REDACTED]", "Ocp-Apim-Subscription-Key": "[REDACTED]", "X-Case": "token"}',
        ),
        ('{\\"password\\": \\"p\\"}', '{\\"password\\": \\"[REDACTED]\\"}'),
        ('{"password": 123456, "user": "u"}', '{"password": [REDACTED], "user": "u"}'),
        ('{"password": "a\\"b", "n": 1}', '{"password": "[REDACTED]", "n": 1}'),
        ("[('Host', 'h'), ('Authorization', 'Bearer abc')]", "[('Host', 'h'), ('Authorization', 'Bearer [REDACTED]')]"),
        ("Cookie: theme=dark; session=abc123", "Cookie: [REDACTED]"),
        ("Set-Cookie: s=abc; Path=/; HttpOnly\nnext", "Set-Cookie: [REDACTED]\nnext"),
        ("postgresql://scorer:p@ss@db:5432/x", "postgresql://scorer:[REDACTED]@db:5432/x"),
        ("redis://cache:6379/0 and https://host/a@b", "redis://cache:6379/0 and https://host/a@b"),
        ("db_pass=xyz bypass=1 DbPass=abc", "db_pass=[REDACTED] bypass=1 DbPass=[REDACTED]"),
        ("AccountKey=[REDACTED:X];", "AccountKey=[REDACTED];"),
    ],
)
def test_credential_shapes_and_secret_keys_in_text(text: str, expected: str) -> None:
    assert Redactor({})(text) == expected


@pytest.mark.parametrize("label", ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"])
def test_pem_private_keys_are_masked_whole_even_without_an_environment_variable(label: str) -> None:
    block, rows = pem(lines=8, label=label)
    for text in (f"key: {block} end", repr(block), json.dumps(block), f"cut {block[:300]}"):
        masked = Redactor({})(text)
        assert not any(row in masked for row in rows) and f"[REDACTED:{label}]" in masked


def test_ordinary_lines_are_untouched() -> None:
    line = '{"timestamp": "2026-11-25T17:21:55.213817Z", "level": "info", "event": "shim.run.ok", "logger": "shim"}'
    assert Redactor({})(line) is line
    for text in ("a basic test of the key idea", "token_type: bearer", "the basic configuration", "KeyError: 'x'"):
        assert Redactor({})(text) == text


# -- values: masked before they are bounded and rendered ----------------------------------------------------


def test_values_are_masked_recursively_without_touching_the_callers_objects() -> None:
    redact = Redactor({"DB_PASSWORD": "Secret-Value-42"})
    payload = {"rows": [1, 2], "auth": {"password": "x"}, "note": ("Secret-Value-42",), "Secret-Value-42": "k"}
    masked = redact.value(payload)
    assert masked == {
        "rows": [1, 2],
        "auth": "[REDACTED]",
        "note": ("[REDACTED:DB_PASSWORD]",),
        "[REDACTED:DB_PASSWORD]": "k",
    }
    assert payload["auth"] == {"password": "x"} and payload["note"] == ("Secret-Value-42",)
    clean = {"rows": [1, 2], "name": "model"}
    assert redact.value(clean) is clean


def test_a_clean_event_is_returned_as_it_is() -> None:
    event = {"event": "shim.run.ok", "logger": "shim", "http": {"method": "POST"}, "request_id": "abc-123"}
    assert Redactor({"API_KEY": "Secret-Value-42"}).event(event) is event
    assert event == {"event": "shim.run.ok", "logger": "shim", "http": {"method": "POST"}, "request_id": "abc-123"}


def test_cycles_and_depth_are_bounded() -> None:
    loop: dict[str, Any] = {}
    loop["a"] = loop
    loop["b"] = loop
    masked = Redactor({}).value({"loop": loop, "password": "x"})
    assert masked["password"] == "[REDACTED]" and "{...}" in masked["loop"]["a"]
    deep: list[Any] = ["Secret-Value-42"]
    for _ in range(100):
        deep = [deep]
    assert "Secret-Value-42" not in json.dumps(Redactor({"API_KEY": "Secret-Value-42"}).value(deep))


def test_finding_2a_a_secret_across_the_cut_is_masked_before_the_message_is_clipped() -> None:
    block, rows = pem()
    redaction.reset({"JWT_PRIVATE_KEY": block})
    try:
        # Cut in the middle of the key, with or without the environment variable.
        for environ in ({"JWT_PRIVATE_KEY": block}, {}):
            redaction.reset(environ)
            message = f"{'x' * (processors.MAX_MESSAGE_CHARS // 2 - 100)}{block}{'y' * 1_500}"
            described = processors.describe_exception(ValueError(message))
            for text in (described["message"], described["traceback"]):
                assert not any(row in text for row in rows)
    finally:
        redaction.reset()


def test_a_secret_across_the_payload_cut_is_masked_before_the_payload_is_cut() -> None:
    secret = "Payload-Secret-0123456789"
    redaction.reset({"UPSTREAM_API_KEY": secret})
    try:
        body = "x" * (payload.max_chars - 10) + secret + "y" * 50  # the cut falls inside the secret
        logged = payload.describe((body,), None)
        assert secret[:10] not in logged and "[REDACTED:UPSTREAM_API_KEY]"[:10] in logged
    finally:
        redaction.reset()


def test_json_fallback_still_writes_one_valid_json_object() -> None:
    def strict(text: str) -> Any:
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))

    line = processors.render_json(None, "info", {"event": "e", "ratio": float("nan"), "m": {"x": float("inf")}})
    assert strict(line)["ratio"] == "nan" and strict(line)["m"] == {"x": "inf"}
    odd = processors.render_json(None, "info", {"event": "e", "k": {(1, 2): "password=abc"}})
    assert strict(odd)["k"] == {"(1, 2)": "password=abc"}  # masking ran before: the renderer only encodes


# -- the real pipeline, generated --------------------------------------------------------------------------

#: Characters that make escaping hard: quotes, backslashes, controls, separators, non-ASCII.
HARD = st.sampled_from(list("\"'\\\n\r\t\x00\x01\x1b\x7f /+=%&;:,{}[]()aZ09é☃\u202e😀"))
secrets = st.one_of(
    st.text(min_size=4, max_size=4_000),
    st.text(alphabet=HARD, min_size=4, max_size=300),
    st.integers(min_value=1_000, max_value=10**15).map(str),  # digits only
    st.builds(lambda n, seed: pem(lines=n, seed=seed)[0], st.integers(1, 60), st.integers(0, 10**6)),
)
around = st.text(max_size=300)
LABEL = "[REDACTED:HYPO_SECRET]"


@pytest.fixture
def pipeline() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    buffer = io.StringIO()
    configure_logging(Settings(log_format="json"), stream=buffer)
    logger = logging.getLogger("test.redact.generated")
    handler = ShimHandler()
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield buffer, logger
    logger.removeHandler(handler)
    configure_logging(Settings(log_format="json"), stream=io.StringIO())
    redaction.reset()


def written(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Each line as one strict JSON object; the buffer is emptied for the next example."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    assert text.endswith("\n")
    events = [json.loads(line, parse_constant=lambda name: pytest.fail(name)) for line in text.split("\n")[:-1]]
    assert all(isinstance(event, dict) for event in events)
    return events


def _log_everywhere(logger: logging.Logger, secret: str, text: str) -> None:
    raw = secret.encode("utf-8", "surrogatepass")
    logger.warning("%s", text)
    logger.warning("failed", exc_info=KeyError(secret), extra={"detail": [text, (text,)]})
    get_logger("shim").info(
        "shim.test.generated",
        value=text,
        nested={"k": [text, {"kk": (text,)}], text: "as a key"},
        reprd=repr(secret),
        jsoned=[json.dumps(secret), json.dumps(secret, ensure_ascii=False)],
        url=[quote(secret, safe=""), quote_plus(secret)],
        b64=[base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")],
        raw_bytes=raw,
        obj=KeyError(secret),
    )
    get_logger("shim").error("shim.test.generated_error", error=ValueError(text))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=secrets, before=around, after=around)
def test_generated_secrets_are_masked_in_every_line_and_every_form(
    pipeline: tuple[io.StringIO, logging.Logger], secret: str, before: str, after: str
) -> None:
    buffer, logger = pipeline
    # The secret must not be there already, around it or in what the masked line holds anyway.
    context = [before, after, f"{before} {LABEL} {after}", LABEL, "[REDACTED]", "shim.test.generated_error"]
    assume(not leaks(secret, context))
    redaction.reset({"HYPO_SECRET": secret})
    _log_everywhere(logger, secret, f"{before} {secret} {after}")
    events = written(buffer)
    assert len(events) == 4
    if len(secret) < MIN_SECRET_LENGTH:
        return  # too short to mask in free text, by policy: the lines only have to be whole
    texts = [text for event in events for key, value in event.items() if key != "timestamp" for text in strings(value)]
    assert leaks(secret, texts) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.integers(1, 60), seed=st.integers(0, 10**6), before=around, after=around)
def test_generated_pem_blocks_are_masked_without_any_environment_variable(
    pipeline: tuple[io.StringIO, logging.Logger], lines: int, seed: int, before: str, after: str
) -> None:
    buffer, logger = pipeline
    block, rows = pem(lines=lines, seed=seed)
    redaction.reset({})
    _log_everywhere(logger, block, f"{before} {block} {after}")
    texts = [text for event in written(buffer) for text in strings(event)]
    assert not any(row in text for row in rows for text in texts)


#: No ASCII letter and no ':' means no credential shape, no secret-named key and no form of the secret below.
plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=f"{string.ascii_letters}:"), max_size=400
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=plain, key=plain)
def test_a_line_without_secrets_is_unchanged_in_content(
    pipeline: tuple[io.StringIO, logging.Logger], text: str, key: str
) -> None:
    buffer, logger = pipeline
    redaction.reset({"API_KEY": "Secret-Value-42", "DB_PASSWORD": "another-Secret-7"})
    logger.warning("%s", text, extra={"detail": [text, {key: text}]})
    get_logger("shim").info("shim.test.plain", value=text, nested={key: [text, (text,)]})
    record_line, shim_line = written(buffer)
    assert record_line["event"] == text and record_line["detail"] == [text, {key: text}]
    assert shim_line["value"] == text and shim_line["nested"] == {key: [text, [text]]}
