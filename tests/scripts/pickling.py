"""Classes defined in score.py must survive pickling (the bare server does not register the module)."""

import pickle
from dataclasses import dataclass


class Scaler:
    def __init__(self, factor):
        self.factor = factor


@dataclass
class Point:
    x: int
    y: int


def init():
    global scaler
    scaler = pickle.loads(pickle.dumps(Scaler(3)))


def run(raw_data):
    point = pickle.loads(pickle.dumps(Point(1, 2)))
    return {"factor": scaler.factor, "point": [point.x, point.y]}
