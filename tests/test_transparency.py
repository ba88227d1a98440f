"""Every run style the server supports answers identically bare and wrapped, through the real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._server import Server, running_server

pytestmark = pytest.mark.server

# Headers that differ between any two responses, wrapped or not.
VOLATILE_HEADERS = {"date", "x-ms-run-fn-exec-ms", "x-request-id", "x-ms-request-id"}


def answer(response: httpx.Response) -> dict[str, Any]:
    """What a client can observe of a response, minus what changes from one request to the next."""
    headers = {k: v for k, v in response.headers.items() if k.lower() not in VOLATILE_HEADERS}
    return {"status": response.status_code, "body": response.content, "headers": headers}


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest, scripts: Path, log_dir: Path) -> Iterator[dict[str, Server]]:
    script = scripts / request.param
    with running_server(script, log_dir, shim=False) as bare, running_server(script, log_dir) as wrapped:
        yield {"bare": bare, "wrapped": wrapped}


def both(servers: dict[str, Server], method: str, path: str, **kwargs: Any) -> dict[str, httpx.Response]:
    responses = {}
    for mode, server in servers.items():
        with server.client() as client:
            responses[mode] = client.request(method, path, **kwargs)
    return responses


def assert_same(responses: dict[str, httpx.Response]) -> httpx.Response:
    assert answer(responses["wrapped"]) == answer(responses["bare"])
    return responses["wrapped"]


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("servers", ["plain.py"], indirect=True)
class TestPlainRun:
    def test_post_json_body_arrives_as_str(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b'{"x": [1, 2]}', headers=JSON))
        assert response.status_code == 200
        assert response.json() == {"raw": '{"x": [1, 2]}', "doubled": [2, 4]}

    def test_get_query_is_passed_as_json_str(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "GET", "/score", params={"x": "[3]", "name": "a"}))
        assert response.status_code == 200
        assert json.loads(response.json()["raw"]) == {"x": [3], "name": "a"}

    def test_run_raising_answers_generic_500_with_failure_header(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b'{"fail": "please"}', headers=JSON))
        assert response.status_code == 500
        assert response.headers["x-ms-run-function-failed"] == "True"
        assert "please" not in response.text

    def test_unserialisable_result_is_the_same_500(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b'{"unserialisable": 1}', headers=JSON))
        assert response.status_code == 500

    def test_non_utf8_body_is_the_same_400(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b"\xff\xfe", headers=JSON))
        assert response.status_code == 400

    def test_health_swagger_and_unknown_routes(self, servers: dict[str, Server]) -> None:
        assert assert_same(both(servers, "GET", "/")).text == "Healthy"
        assert assert_same(both(servers, "GET", "/swagger.json")).status_code in (200, 404)
        assert assert_same(both(servers, "GET", "/nope")).status_code == 404
        assert assert_same(both(servers, "PUT", "/score")).status_code == 405
        assert assert_same(both(servers, "OPTIONS", "/score")).status_code == 200

    def test_request_id_is_echoed(self, servers: dict[str, Server]) -> None:
        responses = both(servers, "POST", "/score", content=b"{}", headers={"x-request-id": "rid-1", **JSON})
        assert {r.headers["x-request-id"] for r in responses.values()} == {"rid-1"}


@pytest.mark.parametrize("servers", ["schema.py"], indirect=True)
class TestInputSchema:
    def test_body_is_split_into_typed_kwargs(self, servers: dict[str, Server]) -> None:
        body = {"data": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "factor": 10.0}
        response = assert_same(both(servers, "POST", "/score", json=body))
        assert response.status_code == 200
        assert response.json() == {"sums": [60.0, 150.0], "type": "ndarray"}

    def test_default_parameter_and_missing_parameter(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", json={"data": [[1.0, 1.0, 1.0]]}))
        assert response.json() == {"sums": [3.0], "type": "ndarray"}
        assert assert_same(both(servers, "POST", "/score", json={"factor": 1.0})).status_code == 400

    def test_get_with_query_parameters(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "GET", "/score", params={"data": "[[1, 2, 3]]"}))
        assert response.json() == {"sums": [6.0], "type": "ndarray"}

    def test_wrong_content_type_is_the_same_415(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b"data", headers={"Content-Type": "text/plain"}))
        assert response.status_code == 415

    def test_swagger_carries_the_schema(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "GET", "/swagger.json"))
        assert response.status_code == 200
        swagger = response.json()
        assert "factor" in json.dumps(swagger)

    def test_server_detected_the_schema(self, servers: dict[str, Server]) -> None:
        line = "run() is decorated with @input_schema"
        assert line in servers["bare"].log_text()
        assert line in servers["wrapped"].log_text()


@pytest.mark.parametrize("servers", ["rawhttp.py"], indirect=True)
class TestRawHttp:
    def test_post_gets_the_flask_request(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b"12345", headers={"Content-Type": "text/x"}))
        assert response.json() == {"length": 5, "content_type": "text/x"}

    def test_amlresponse_status_and_headers_pass_through(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b"teapot"))
        assert response.status_code == 418
        assert response.headers.get_list("x-custom") == ["a", "b"]

    def test_returned_5xx_gets_the_failure_header(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b"server-error"))
        assert response.status_code == 503
        assert response.headers["x-ms-run-function-failed"] == "True"

    def test_get(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "GET", "/score", params={"q": "1"}))
        assert response.json() == {"args": {"q": "1"}}


@pytest.mark.parametrize("servers", ["headers.py"], indirect=True)
class TestRequestHeaders:
    def test_headers_reach_run(self, servers: dict[str, Server]) -> None:
        headers = {"X-Custom-Header": "hello", **JSON}
        response = assert_same(both(servers, "POST", "/score", content=b"[1]", headers=headers))
        assert response.json() == {"data": [1], "custom": "hello", "has_headers": True}


@pytest.mark.parametrize("servers", ["driver.py"], indirect=True)
class TestDriverModule:
    def test_driver_modules_run_is_called(self, servers: dict[str, Server]) -> None:
        response = assert_same(both(servers, "POST", "/score", content=b"abc"))
        assert response.json() == {"from": "driver_module", "raw": "abc"}
