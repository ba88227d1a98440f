"""orjson renders a line byte for byte as the standard library's encoder does, or not at all (shim.stream.fast_json).

Every event is rendered both ways in the same run, through the shim's own renderer (`processors.render_json`):
with orjson (where installed) and with the standard library's encoder alone, and the two lines must be the same
bytes: ``ensure_ascii``, the separators, the key order, NaN and the infinities, keys that are no ``str``, lone
surrogates, ints past 64 bits, objects only ``default`` can write, subclasses, cycles, depth. Plain events must
really take the orjson path (else the comparison would prove nothing); without orjson installed, both ways are
the standard library's and only those tests are skipped.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shim.stream import fast_json, processors
from shim.stream.redaction import Masked


@pytest.fixture(autouse=True)
def _orjson_on() -> Iterator[None]:
    fast_json.enabled = True
    yield
    fast_json.enabled = True


def both_ways(build: Callable[[], dict[Any, Any]]) -> tuple[str, str]:
    """The event's line through the renderer with orjson, and with the standard library only (fresh events:
    the renderer takes its dict apart)."""
    fast_json.enabled = True
    fast = processors.render_json(None, "info", build())
    fast_json.enabled = False
    try:
        plain = processors.render_json(None, "info", build())
    finally:
        fast_json.enabled = True
    return fast, plain


class Colour(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 3


class Named(str, enum.Enum):
    A = 'a,":b'


@dataclasses.dataclass
class Point:
    x: int
    y: float


class Items(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        return [("overridden", True)]


class Tenth(float):
    pass


class Big(int):
    pass


class Text(str):
    pass


class Shouting:
    def __repr__(self) -> str:
        return "Shouting(password=hunter2, token='abc')"


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


Pair = collections.namedtuple("Pair", "a b")


def _cycle() -> dict[str, Any]:
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    return {"event": "e", "loop": loop}


def _moved() -> dict[str, Any]:
    ordered = collections.OrderedDict([("a", 1), ("b", 2), ("c", 3)])
    ordered.move_to_end("a")
    return {"event": "e", "ordered": ordered}


def _deep(depth: int) -> dict[str, Any]:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": value}
    return {"event": "e", "deep": value}


PLAIN: list[Callable[[], dict[Any, Any]]] = [
    lambda: {
        "timestamp": "2025-01-01T00:00:00.123456Z",
        "level": "info",
        "event": "shim.run.ok",
        "logger": "shim",
        "duration_ms": 0.012,
        "input_bytes": 33,
        "http": {"method": "POST", "path": "/score", "status": 200, "bytes": 4, "duration_ms": 0.456},
        "request_id": "0b9e3b4e-6f1c-4d36-9a52-2f4c1f1b7c55",
        "pid": 1234,
        "host": "replica-0",
    },
    lambda: {"logger": "shim", "event": "e", "level": "info", "timestamp": "t", "z": 1, "a": 2},  # head keys first
    lambda: {"event": "", "empty": {}, "none": [], "tuple": (), "nested": {"a": [], "b": {}}},
    lambda: {"event": "e", "floats": [0.0, -0.0, 1e-4, 0.1 + 0.2, 1.5, 1e15, 1e16, 1e22, 1.7976931348623157e308]},
    lambda: {"event": "e", "ints": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1, True, False, None]},
    lambda: {"event": "e", "tuple": (1, "two", 3.0, (4,), [5])},
    lambda: {"event": "spaces and symbols !#$%&'()*+-./;<=>?@[]^_`{|}~", "key with spaces": "x"},
    lambda: _deep(fast_json.MAX_DEPTH - 1),
]

ODD: list[Callable[[], dict[Any, Any]]] = [
    lambda: {"event": "caf\u00e9 \u4e2d\u6587 \U0001f600 \u2028\u2029"},  # ensure_ascii, surrogate pairs
    lambda: {"event": "".join(map(chr, range(32))) + "\x7f"},  # control characters, DEL
    lambda: {"event": 'quote " backslash \\ end\\', "b": "\\", "c": '"'},
    lambda: {"event": 'looks like a key": "x", "y":', '"k":': '":', "comma,key": "a,b", "colon:key": "a:b"},
    lambda: {"event": "e", "text": "a, b: c", "list": ["x,y", "z:w"]},
    lambda: {"": ":", ":": ":x", ",": [":", ",", ":,"], "event": ":"},  # a string that starts with a colon
    lambda: {"event": "e", "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "nested": {"x": [math.nan]}},
    lambda: {"event": "e", "small": [9.99e-5, 1e-5, 1.5e-7, 1e-9, 1e-10, 5e-324, -2.5e-6]},
    lambda: {"event": "e", "big": [2**63, 2**64, -(2**63) - 1, 10**30, -(10**40)]},
    lambda: {"event": "e", 1: "int key", None: "none key", False: "bool key", 1.5: "float key"},
    lambda: {"event": "e", (1, 2): "tuple key", "k": {(3,): "password=abc"}},
    lambda: {"event": "lone \ud800 surrogate", "key\udfff": "x"},
    lambda: {"event": Masked("masked"), Text("sub key"): Text("sub value")},
    lambda: {"event": "e", "enum": Colour.RED, "int_enum": Level.HIGH, "str_enum": Named.A},
    lambda: {"event": "e", "uuid": uuid.UUID("0b9e3b4e-6f1c-4d36-9a52-2f4c1f1b7c55")},
    lambda: {"event": "e", "when": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)},
    lambda: {"event": "e", "day": datetime.date(2025, 1, 2), "time": datetime.time(3, 4)},
    lambda: {"event": "e", "point": Point(1, 2.5), "decimal": decimal.Decimal("1.10")},
    lambda: {"event": "e", "bytes": b"\x00bytes", "set": {1}, "frozen": frozenset({"a"})},
    lambda: {"event": "e", "items": Items(a=1), "tenth": Tenth(0.1), "big": Big(5), "pair": Pair(1, "b")},
    lambda: {"event": "e", "secret": Shouting(), "broken": Unprintable()},
    _moved,
    _cycle,
    lambda: _deep(fast_json.MAX_DEPTH + 2),
    lambda: _deep(200),
    lambda: {"event": "x" * 100_000, "long": ["y" * 1000] * 50},
]


IDS = [f"plain-{i}" for i in range(len(PLAIN))] + [f"odd-{i}" for i in range(len(ODD))]


@pytest.mark.parametrize("build", PLAIN + ODD, ids=IDS)
def test_orjson_and_the_standard_library_write_the_same_bytes(build: Callable[[], dict[Any, Any]]) -> None:
    fast, plain = both_ways(build)
    assert fast.encode("utf-8", "surrogatepass") == plain.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("build", PLAIN, ids=[f"plain-{i}" for i in range(len(PLAIN))])
def test_plain_events_take_the_orjson_path(build: Callable[[], dict[Any, Any]]) -> None:
    pytest.importorskip("orjson", reason="the optional extra score-shim[fast]")
    line = fast_json.encode(build())
    assert line is not None, "the comparison above would then prove nothing about orjson"


def test_the_orjson_path_can_be_switched_off() -> None:
    fast_json.enabled = False
    assert fast_json.encode({"event": "e"}) is None


def test_the_runs_line_is_rendered_by_orjson_unless_a_check_fails() -> None:
    pytest.importorskip("orjson", reason="the optional extra score-shim[fast]")
    assert fast_json.encode({"event": "e", "path": "/a"}) is not None
    # What decides it, one check at a time, on the line every request writes.
    assert fast_json.encode({"event": "e", "path": "/a,b"}) is None  # a comma in a value
    assert fast_json.encode({"event": "e", "ok": "\u00e9"}) is None  # not ASCII
    assert fast_json.encode({"event": "e", "ok": "a\nb"}) is None  # an escape
    assert fast_json.encode({"event": "e", "n": 2**70}) is None  # orjson raises
    assert fast_json.encode({"event": "e", "ms": 0.00001}) is None  # a float orjson writes otherwise
    assert fast_json.encode({"event": "e", "id": uuid.uuid4()}) is None  # a type json hands to default


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
    | st.sampled_from(["", ",", ":", '":', "\\", '"', "a, b", "k: v", "\x7f", "\u2028", "e-5", "null"])
)
_KEYS = st.text(max_size=8) | st.sampled_from(["", ",", '":', "a:b"]) | st.integers(-3, 3)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=10) | st.sampled_from(["timestamp", "level", "event"]), _VALUES, max_size=6))
def test_generated_events_are_the_same_bytes_both_ways(event: dict[str, Any]) -> None:
    fast, plain = both_ways(lambda: dict(event))
    assert fast.encode("utf-8", "surrogatepass") == plain.encode("utf-8", "surrogatepass")
