"""`from __future__ import annotations` with @dataclass: crashes at import under the bare server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Config:
    name: str
    size: int = 1


def init():
    global config
    config = Config("m")


def run(raw_data):
    return {"name": config.name, "size": config.size}
