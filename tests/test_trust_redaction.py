"""Issue 12, trust: nothing a client sends or a script holds breaks the stream or leaks a secret.

Each finding reproduced through the real server (prod, debug and hold modes): every stdout line parses as
one JSON object, and no planted secret appears in any of its forms (raw, repr, JSON, URL, base64) in any
line or response.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._secrets import leaks, pem, strings
from tests._server import Server, parse_lines, running_server, wait_for

pytestmark = pytest.mark.server

PEM, PEM_ROWS = pem()
SECRETS = {
    # A backslash, both quotes, a newline, control characters, non-ASCII: every escape repr and JSON know.
    "DB_PASSWORD": "Pa\"ss\\wo'rd\n\x01\x7f\u00e9\u2603-42",
    "JWT_PRIVATE_KEY": PEM,  # about 3.3 KB
    "DB_PASS": "Db-Pass-Long-77x",  # a DB_PASS-style name
    "SERVICE_TOKEN": "100000",  # digits only
}
SHORT = {"SMTP_PASS": "pw1"}  # too short to mask in free text: masked under secret-named keys only
ENV = {**SECRETS, **SHORT, "MAX_TOKENS": "100000", "SCORE_SHIM_LOG_PAYLOADS": "1"}
#: Secrets a client sends (never in the environment): each must be masked by its shape or its key.
CLIENT_SECRETS = {
    "x-api-key": "Api-Key-Val-1234",
    "api-key": "Plain-Api-Key-5678",
    "Ocp-Apim-Subscription-Key": "Apim-Sub-Key-9012",
    "Cookie": "theme=dark; session=Cookie-Val-3456",
}
SHARED_KEY_SIG = "c2lnbmF0dXJlLW9mLXRoZS1yZXF1ZXN0=="
SERVER_TEXT = ["Initializing logger"]  # the server's own print before any logging is configured


@pytest.fixture(scope="module")
def prod(scripts: Path, log_dir: Path) -> Iterator[Server]:
    with running_server(scripts / "trust_leaks.py", log_dir, env=ENV) as server:
        yield server


@pytest.fixture(scope="module")
def debug(scripts: Path, log_dir: Path) -> Iterator[Server]:
    with running_server(scripts / "trust_leaks.py", log_dir, env={**ENV, "SCORE_SHIM_DEBUG": "1"}) as server:
        yield server


@pytest.fixture(scope="module")
def held(scripts: Path, log_dir: Path) -> Iterator[Server]:
    env = {**ENV, "SCORE_SHIM_DEBUG": "1", "SCORE_SHIM_ON_INIT_FAILURE": "hold"}
    with running_server(scripts / "trust_init_leak.py", log_dir, env=env) as server:
        yield server


def post(server: Server, case: str, request_id: str, body: bytes = b"{}", **headers: str) -> httpx.Response:
    with server.client() as client:
        return client.post("/score", content=body, headers={"x-case": case, "x-request-id": request_id, **headers})


def whole_json_lines(server: Server) -> list[dict[str, Any]]:
    """Every line of the server's stdout as one JSON object (the server's own start-up print aside)."""
    events, other = parse_lines(server.log_text())
    assert [line for line in other if line not in SERVER_TEXT] == []
    return events


def assert_no_leak(texts: list[str], secrets: dict[str, str] = SECRETS, raw: tuple[str, ...] = ()) -> None:
    """No form of a secret in ``texts`` (strings, parsed), nor in ``raw`` (lines as written: there, a
    digits-only secret may be a JSON number, which the policy leaves alone)."""
    for name, secret in secrets.items():
        digits = secret.isascii() and secret.isdigit()
        assert leaks(secret, [*texts, *(() if digits else raw)]) == [], name
    for row in PEM_ROWS:
        assert all(row not in text for text in [*texts, *raw]), "a line of the PEM key leaked"


def assert_no_leak_in_log(server: Server, secrets: dict[str, str] = SECRETS) -> None:
    parsed = [text for event in whole_json_lines(server) for text in strings(event)]
    assert_no_leak(parsed, secrets, raw=(server.log_text(),))


# -- finding 1: the redactor broke the one-JSON-object-per-line promise ---------------------------------


def test_finding_1_sig_with_quote_in_request_id_keeps_json(prod: Server) -> None:
    assert post(prod, "ok", '?sig=AAAAAAAAAA"').status_code == 200
    event = prod.wait_for_event("shim.run.ok", request_id='?sig=[REDACTED]"')
    assert event["http"]["status"] == 200
    whole_json_lines(prod)
    assert "AAAAAAAAAA" not in prod.log_text()


def test_finding_1_sas_referer_on_a_404_keeps_json(prod: Server) -> None:
    referer = "https://acct.blob.core.windows.net/c/f.csv?sv=2022&sig=AbCdEfGh12345678"
    with prod.client() as client:
        assert client.get("/no-such-route", headers={"Referer": referer}).status_code == 404

    def access_lines() -> list[dict[str, Any]]:
        return [e for e in prod.events(logger="gunicorn.access") if e.get("http", {}).get("path") == "/no-such-route"]

    assert wait_for(access_lines), "no access line for the 404"
    access = access_lines()[-1]
    assert access["http"]["status"] == 404 and "sig=[REDACTED]" in access["event"]
    whole_json_lines(prod)
    assert "AbCdEfGh12345678" not in prod.log_text()


def test_finding_1_digit_only_values_are_never_masked_inside_numbers(prod: Server) -> None:
    # MAX_TOKENS=100000 is not a secret; SERVICE_TOKEN=100000 is: neither touches the number 100000.
    assert post(prod, "ok", "digits-body", body=b"1" * 100_000).status_code == 200
    event = prod.wait_for_event("shim.run.ok", request_id="digits-body")
    assert event["input_bytes"] == 100_000
    assert post(prod, "digits", "digits-text").status_code == 200
    line = prod.wait_for_event("service token [REDACTED:SERVICE_TOKEN]; 11000000 and 100000.5 are other numbers")
    assert line["request_id"] == "digits-text"
    whole_json_lines(prod)


# -- finding 2: secrets got past redaction ---------------------------------------------------------------


def test_finding_2a_secret_across_the_cut(prod: Server, debug: Server) -> None:
    assert post(prod, "pem", "pem-prod").status_code == 500
    failed = prod.wait_for_event("shim.run.failed", request_id="pem-prod")
    assert "[REDACTED:JWT_PRIVATE_KEY]" in failed["error"]["message"]
    response = post(debug, "pem", "pem-debug")
    assert response.status_code == 500 and "[REDACTED:JWT_PRIVATE_KEY]" in response.json()["error"]["message"]
    debug.wait_for_event("shim.run.failed", request_id="pem-debug")
    for server in (prod, debug):
        assert_no_leak_in_log(server)
    assert_no_leak([response.text])


def test_finding_2b_repr_form(prod: Server, debug: Server) -> None:
    assert post(prod, "keyerror", "repr-prod").status_code == 500
    failed = prod.wait_for_event("shim.run.failed", request_id="repr-prod")
    assert failed["error"]["type"] == "KeyError" and "[REDACTED:DB_PASSWORD]" in failed["error"]["message"]
    response = post(debug, "keyerror", "repr-debug")
    assert response.status_code == 500 and "[REDACTED:DB_PASSWORD]" in response.json()["error"]["message"]
    debug.wait_for_event("shim.run.failed", request_id="repr-debug")
    for server in (prod, debug):
        assert_no_leak_in_log(server)
    assert_no_leak([response.text, *strings(response.json())])


def test_finding_2b_repr_form_in_the_hold_503(held: Server) -> None:
    with held.client() as client:
        response = client.post("/score", content=b"{}", headers={"x-request-id": "held-1"})
    assert response.status_code == 503
    body = response.json()
    assert body["request_id"] == "held-1" and "[REDACTED:DB_PASSWORD]" in body["error"]["message"]
    failed = held.wait_for_event("shim.init.failed")
    assert "[REDACTED:DB_PASSWORD]" in failed["error"]["message"]
    assert_no_leak([response.text, *strings(body)])
    assert_no_leak_in_log(held)


def test_finding_2c_api_key_headers_printed_as_json(prod: Server) -> None:
    assert post(prod, "print_headers", "headers-json", **CLIENT_SECRETS).status_code == 200
    printed = next(
        e for e in prod.events(logger="azmlinfsrv.print", request_id="headers-json") if e["event"].startswith("{")
    )
    headers = {key.lower(): value for key, value in json.loads(printed["event"]).items()}
    for name in ("x-api-key", "api-key", "ocp-apim-subscription-key", "cookie"):
        assert headers[name] == "[REDACTED]", name
    assert headers["x-case"] == "print_headers"  # an ordinary header stays as it was
    assert_no_leak_in_log(prod, CLIENT_SECRETS)


def test_finding_2d_short_secrets_are_warned_about_and_masked_under_keys(prod: Server) -> None:
    warning = prod.wait_for_event("shim.redaction.short_secret")
    assert warning["level"] == "warning" and "SMTP_PASS" in warning["variables"]
    assert "pw1" not in json.dumps(warning)
    assert post(prod, "short", "short-1").status_code == 200
    assert prod.wait_for_event("smtp login", request_id="short-1")["smtp_pass"] == "[REDACTED]"


def test_finding_2d_db_pass_style_name(prod: Server) -> None:
    assert post(prod, "db_pass", "db-pass-1").status_code == 200
    prod.wait_for_event("database login failed with [REDACTED:DB_PASS]", request_id="db-pass-1")
    assert_no_leak_in_log(prod, {"DB_PASS": SECRETS["DB_PASS"]})


def test_finding_2d_url_with_a_password(prod: Server) -> None:
    assert post(prod, "url", "url-1").status_code == 200
    masked = "cannot reach postgresql://scorer:[REDACTED]@db.internal:5432/features"
    prod.wait_for_event(masked, request_id="url-1")
    assert "Url-Pw-s3cr3t" not in prod.log_text()


@pytest.mark.parametrize("scheme", ["SharedKey acct:", "Token ", "Bearer "])
def test_finding_2d_authorization_schemes(prod: Server, scheme: str) -> None:
    request_id = f"auth-{scheme.split()[0]}"
    assert post(prod, "print_headers", request_id, Authorization=scheme + SHARED_KEY_SIG).status_code == 200
    printed = next(e for e in prod.events(logger="azmlinfsrv.print", request_id=request_id))
    headers = {key.lower(): value for key, value in json.loads(printed["event"]).items()}
    assert headers["authorization"] == f"{scheme.split()[0]} [REDACTED]"
    assert SHARED_KEY_SIG.rstrip("=") not in prod.log_text()


def test_finding_2d_cookie_and_set_cookie(prod: Server) -> None:
    assert post(prod, "set_cookie", "cookie-1", Cookie=CLIENT_SECRETS["Cookie"]).status_code == 200
    prod.wait_for_event("Set-Cookie: [REDACTED]", request_id="cookie-1")
    assert "Sess-Cookie-9f8e7d" not in prod.log_text() and "Cookie-Val-3456" not in prod.log_text()


def test_finding_2d_password_inside_a_logged_payload(prod: Server) -> None:
    body = b'{"password": "Body-Pw-31337", "rows": [[1, 2]]}'
    assert post(prod, "payload", "payload-1", body=body).status_code == 200
    run_ok = prod.wait_for_event("shim.run.ok", request_id="payload-1")
    assert run_ok["payload"] == '{"password": "[REDACTED]", "rows": [[1, 2]]}'
    assert prod.wait_for_event('payload {"password": "[REDACTED]", "rows": [[1, 2]]}', request_id="payload-1")
    assert "Body-Pw-31337" not in prod.log_text()


# -- all of it at once ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["prod", "debug"])
def test_no_secret_in_any_form_in_any_line_or_response(mode: str, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(mode)
    cases = ["ok", "keyerror", "pem", "print_headers", "db_pass", "short", "url", "set_cookie", "digits", "payload"]
    responses = []
    for case in cases:
        response = post(server, case, f"all-{mode}-{case}", body=b'{"password": "Body-Pw-31337"}', **CLIENT_SECRETS)
        responses += [response.text, json.dumps(dict(response.headers))]
    server.wait_for_event("shim.run.ok", request_id=f"all-{mode}-payload")
    assert_no_leak(responses)
    assert_no_leak_in_log(server)
    assert_no_leak_in_log(server, {**CLIENT_SECRETS, "body": "Body-Pw-31337"})
    assert_no_leak(responses, {**CLIENT_SECRETS, "body": "Body-Pw-31337"})
