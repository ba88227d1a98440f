"""A driver script, as some Azure SDKs generate: the server calls driver_module.run."""

import types

inner = types.ModuleType("inner")
exec(
    "def init():\n    pass\ndef run(raw_data):\n    return {'from': 'driver_module', 'raw': raw_data}\n",
    inner.__dict__,
)
inner.__file__ = __file__  # the server logs where the inner script is
driver_module = inner

initialised = []


def init():
    initialised.append(True)


def run(raw_data):
    return {"from": "outer"}
