"""Bad input, generated: whatever a client sends, the wrapped server answers with the bare server's status,
no planted secret ever appears, and no log line grows without bound."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._server import Server, parse_lines, running_server

pytestmark = pytest.mark.server

SECRET = "planted-Secret-value-42xyz"
ENV = {"PLANTED_STORAGE_KEY": SECRET}
MAX_LINE_CHARS = 64_000

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
bodies = st.one_of(
    st.binary(max_size=2_000),
    st.text(max_size=2_000).map(str.encode),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.builds(lambda depth: b"[" * depth + b"]" * depth, st.integers(min_value=1, max_value=5_000)),
    st.just(b""),
    st.just(b'{"fail": "' + b"x" * 300_000 + b'"}'),
)
content_types = st.sampled_from([None, "application/json", "text/plain", "application/octet-stream"])


@pytest.fixture(scope="module")
def servers(scripts: Path, log_dir: Path) -> Iterator[dict[str, Server]]:
    script = scripts / "leaky.py"
    with (
        running_server(script, log_dir, shim=False, env=ENV) as bare,
        running_server(script, log_dir, env=ENV) as wrapped,
        running_server(script, log_dir, env={**ENV, "SCORE_SHIM_DEBUG": "1"}) as debug,
    ):
        yield {"bare": bare, "wrapped": wrapped, "debug": debug}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, content_type=content_types)
def test_generated_bodies(servers: dict[str, Server], body: bytes, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answers = {}
    for mode, server in servers.items():
        response = httpx.post(f"{server.url}/score", content=body, headers=headers, timeout=30)
        answers[mode] = response
        if mode != "bare":
            assert SECRET not in response.text and SECRET not in json.dumps(dict(response.headers))
    assert answers["wrapped"].status_code == answers["debug"].status_code == answers["bare"].status_code
    if answers["bare"].status_code != 500:
        assert answers["wrapped"].content == answers["bare"].content


#: The worst of what the generated bodies hold, sent by the test below itself (it may run alone, or first).
WORST_BODIES = (
    b'{"fail": "' + b"x" * 300_000 + b'"}',
    b"[" * 5_000 + b"]" * 5_000,
    b"\xff\xfe\x00 not text",
    json.dumps({"fail": '\x1b[31mred\n{"forged": true}'}).encode(),
    b"",
)


def test_logs_after_the_worst_bodies_hold_no_secret_and_no_unbounded_line(servers: dict[str, Server]) -> None:
    for mode in ("wrapped", "debug"):
        for body in WORST_BODIES:
            httpx.post(f"{servers[mode].url}/score", content=body, timeout=30)
        text = servers[mode].log_text()
        assert SECRET not in text
        events, _ = parse_lines(text)
        assert events, "the server logged nothing"
        assert max(len(line) for line in text.splitlines()) < MAX_LINE_CHARS
